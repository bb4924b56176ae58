"""The shipped example: examples/eval passes offline on templates/rag_review.json, and the `top_k: 1` version
regresses, `patchwire eval --baseline latest` exiting 1 and naming the regressed rows."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "eval" / "rag_review.suite.yaml"


def test_the_example_suite_passes_and_the_top_k_1_version_regresses(tmp_path, fresh_database, capsys):
    from components_catalog.demo_index import index_demo_kb

    index_demo_kb()
    rows = (ROOT / "examples" / "eval" / "rag_questions.jsonl").read_text().splitlines()
    assert len(rows) >= 30 and all({"expected_keyword", "expected_doc"} <= json.loads(r).keys() for r in rows)
    assert main(["eval", str(SUITE), "--quiet", "-o", str(tmp_path / "base.json")]) == 0
    base = json.loads((tmp_path / "base.json").read_text())
    assert base["gate"]["passed"] and base["summary"]["assertions"]["retrieved"]["pass_rate"] == 1.0
    assert base["summary"]["score"] >= 0.95
    capsys.readouterr()

    code = main(["eval", str(SUITE), "--quiet", "--pipeline", str(ROOT / "examples" / "eval" / "rag_review_top1.json"),
                 "--baseline", "latest", "-o", str(tmp_path / "now.json")])
    out = capsys.readouterr().out
    now = json.loads((tmp_path / "now.json").read_text())
    assert code == 1
    regressed = now["baseline"]["regressions"]
    assert regressed and f"regressed rows: {', '.join(regressed)}" in out
    assert now["baseline"]["experiment_id"] == base["experiment_id"]
    assert now["baseline"]["graph_diff"]["params_changed"] == {"retrieve": {"top_k": {"old": 4, "new": 1}}}
    assert any(reason.startswith(f"{len(regressed)} rows regressed (allowed 0)") for reason in now["gate"]["reasons"])
