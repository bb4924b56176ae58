"""What the Evaluate panel shows: dataset preview, rows × assertions (regressions first), deltas, chart data,
the graph diff's outlines and param diffs, and where suites and uploads are kept."""

from __future__ import annotations

import json

import pytest

from editor import eval_store
from editor import eval_views as ev

REPORT = {
    "experiment_id": "exp2", "suite": "s",
    "summary": {"rows": 3, "runs": 3, "score": 0.5, "tokens": 0, "cost": 0.0,
                "assertions": {"cites": {"pass_rate": 0.3333, "passed": 1, "failed": 2},
                               "ran": {"pass_rate": 1.0, "passed": 3, "failed": 0}},
                "latency_ms": {"p50": 12.0, "p95": 30.0}},
    "rows": [{"id": "a", "run_ids": ["ra"], "assertions": {"cites": {"passed": True, "actual": "x", "expected": "x"},
                                                           "ran": {"passed": True, "actual": 1, "expected": None}}},
             {"id": "b", "run_ids": ["rb"], "assertions": {"cites": {"passed": False, "actual": "y", "expected": "x"},
                                                           "ran": {"passed": True, "actual": 1, "expected": None}}},
             {"id": 3, "run_ids": [], "assertions": {"cites": {"passed": False, "actual": None, "expected": "x"}}}],
    "gate": {"passed": True, "reasons": []},
}


def test_dataset_preview_reads_the_first_rows_of_jsonl_and_csv(tmp_path):
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"id": i, "q": f"question {i}"}) + "\n" for i in range(8)))
    shown = ev.preview(tmp_path / "d.jsonl", limit=3)
    assert shown["columns"] == ["id", "q"] and shown["count"] == 8 and shown["error"] == ""
    assert shown["rows"] == [["0", "question 0"], ["1", "question 1"], ["2", "question 2"]]
    (tmp_path / "d.csv").write_text("q,expected\nhello,HELLO\n")
    assert ev.preview(tmp_path / "d.csv")["rows"] == [["hello", "HELLO"]]
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert "bad.jsonl" in ev.preview(tmp_path / "bad.jsonl")["error"]
    assert "unknown dataset type" in ev.preview(tmp_path / "d.txt")["error"]


def test_result_rows_put_regressions_then_improvements_first():
    plain = ev.result_rows(REPORT)
    assert [r["id"] for r in plain] == ["a", "b", "3"] and plain[0]["run_id"] == "ra" and plain[2]["run_id"] == ""
    assert [c["passed"] for c in plain[1]["cells"]] == [False, True] and plain[1]["status"] == "failed"
    assert plain[2]["cells"][1] == {"name": "ran", "passed": False, "title": "not evaluated"}
    ordered = ev.result_rows(REPORT, {"regressions": ["b"], "improvements": [3]})
    assert [(r["id"], r["mark"]) for r in ordered] == [("b", "regressed"), ("3", "improved"), ("a", "")]


def test_cards_deltas_and_chart_data():
    cards = ev.summary_cards(REPORT)
    assert cards["score"] == "50.0%" and cards["p95"] == "30 ms" and cards["gate"] == "passed"
    deltas = ev.comparison_cards({"experiment_id": "exp1", "score_delta": -0.25, "latency_p95_delta": 12.0,
                                  "cost_delta": 0.0, "regressions": ["b"], "improvements": []})
    assert deltas == {"baseline": "exp1", "score": "−25.0 pts", "p95": "+12 ms", "cost": "±$0", "regressed": "1",
                      "improved": "0"}
    baseline = {"summary": {"assertions": {"cites": {"pass_rate": 1.0}}}}
    assert ev.pass_rate_bars(REPORT, baseline) == [{"assertion": "cites", "now": 33.3, "baseline": 100.0},
                                                   {"assertion": "ran", "now": 100.0, "baseline": 0.0}]
    assert "baseline" not in ev.pass_rate_bars(REPORT)[0]
    bins = ev.latency_bins([10, 11, 19, 30], bins=2)
    assert [b["runs"] for b in bins] == [3, 1] and bins[0]["range"] == "10 ms–20 ms"
    assert ev.latency_bins([5, 5]) == [{"range": "5 ms", "runs": 2}] and ev.latency_bins([]) == []
    assert ev.cost_bars([{"id": "a", "cost": 0.002}, {"row": 1, "cost": None}]) == [
        {"row": "a", "cost": 0.002}, {"row": "1", "cost": 0.0}]
    assert ev.progress_text(0, 4, 0) == "0 of 4 rows done"
    assert ev.progress_text(3, 4, 2) == "3 of 4 rows done, 67% passing so far"


def test_graph_diff_outlines_and_param_diffs():
    diff = {"nodes_added": ["rerank"], "nodes_removed": ["old"], "edges_added": ["a.x -> b.y"], "edges_removed": [],
            "params_changed": {"shout": {"mode": {"old": None, "new": "lower"},
                                         "template": {"old": "a", "new": "b", "diff": ["-a", "+b"]}}},
            "components_changed": {"gen": {"old": "llm.chat v1", "new": "llm.chat v2"}}}
    assert ev.diff_outlines(diff) == {"shout": "changed", "gen": "changed", "rerank": "added"}
    rows = ev.param_diffs(diff)
    assert rows[0] == {"node": "shout", "param": "mode", "old": "(default)", "new": "lower", "lines": []}
    assert rows[1]["lines"] == ["-a", "+b"]
    assert {"node": "old", "param": "(node)", "old": "removed", "new": "", "lines": []} in rows
    assert {"node": "wiring", "param": "edge", "old": "", "new": "a.x -> b.y", "lines": []} in rows
    assert ev.diff_outlines(None) == {} and ev.param_diffs(None) == []


def test_uploads_are_kept_under_safe_names_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    path = eval_store.save_upload("p1", "../../etc/my data.jsonl", b'{"q": 1}\n')
    assert path == tmp_path / "eval" / "datasets" / "p1" / "my_data.jsonl" and path.read_bytes() == b'{"q": 1}\n'
    with pytest.raises(eval_store.UploadRefused, match="is not a dataset: upload a .jsonl file"):
        eval_store.save_upload("p1", "evil.sh", b"x")
    monkeypatch.setattr(eval_store, "MAX_UPLOAD_BYTES", 3)
    with pytest.raises(eval_store.UploadRefused, match="the editor takes datasets up to 3 bytes"):
        eval_store.save_upload("p1", "big.csv", b"a,b\n1,2\n")


def test_the_attached_suite_round_trips_and_is_a_valid_suite_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    draft = eval_store.load_draft("p1", "My RAG pipeline!")
    assert draft["name"] == "my-rag-pipeline-p1" and draft["pipeline_id"] == "p1" and draft["assertions"] == []
    draft["dataset"] = str(tmp_path / "d.jsonl")
    draft["assertions"].append({"name": "ran", "type": "fired", "node": "out"})
    eval_store.save_draft("p1", draft)
    assert eval_store.load_draft("p1", "renamed") == draft  # the suite's name stays (its experiments keep it)
    from runtime.eval.suite import load_suite

    suite, _ = load_suite(eval_store.suite_path("p1"))  # `patchwire eval` reads it as it is
    assert suite.pipeline_id == "p1" and suite.assertions[0].name == "ran"


def test_examples_are_the_projects_eval_datasets():
    assert {"label": "rag_questions.jsonl", "path": str(eval_store.examples_dir() / "rag_questions.jsonl")} \
        in eval_store.example_datasets()
