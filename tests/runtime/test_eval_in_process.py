"""The editor's way into `patchwire eval`: an in-memory suite on a given spec (`prepare_suite(spec=...)`), run on
the caller's event loop (`run_prepared`) with a callback per row; stored like the CLI's experiments."""

from __future__ import annotations

import asyncio
import json

import pytest

from runtime.eval.runner import prepare_suite
from runtime.eval.session import run_prepared
from runtime.eval.suite import InvalidSuite, Suite
from runtime.testing.specs import make_spec


def echo_spec(prefix: str) -> dict:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "echo": ("demo.echo", {"prefix": prefix}),
                      "out": ("io.output", {})},
                     [("q", "value", "echo", "value"), ("echo", "value", "out", "value")], name="echo")
    return spec.model_dump(mode="json", exclude_none=True)


def suite(tmp_path) -> Suite:
    rows = [{"id": "r1", "question": "a", "want": "> a"}, {"id": "r2", "question": "b", "want": "> b"}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return Suite.model_validate({"name": "in-process", "pipeline_id": "p-editor", "dataset": str(tmp_path / "rows.jsonl"),
                                 "inputs": {"query": "question"},
                                 "assertions": [{"name": "echoed", "node": "echo", "type": "equals", "column": "want"}]})


def test_run_prepared_runs_the_given_spec_on_this_loop_and_stores_it(tmp_path, fresh_database, registry):
    prep = prepare_suite(suite(tmp_path), tmp_path, registry, spec=echo_spec("> "))
    assert prep.pipeline_id == "p-editor"
    seen: list[str] = []
    report, records = asyncio.run(run_prepared(prep, on_record=lambda r: seen.append(r["id"])))
    assert sorted(seen) == ["r1", "r2"] and len(records) == 2
    assert report["summary"]["assertions"]["echoed"]["pass_rate"] == 1.0

    from runtime.store.experiments import get_experiment
    from runtime.store.runs import get_run

    stored = get_experiment(report["experiment_id"])
    assert stored.spec == echo_spec("> ") and stored.pipeline_id == "p-editor"
    run, _ = get_run(report["rows"][0]["run_ids"][0])
    assert run.source == "eval" and run.pipeline_id == "p-editor"  # in the pipeline's History

    worse = prepare_suite(suite(tmp_path), tmp_path, registry, spec=echo_spec("< "))
    report2, _ = asyncio.run(run_prepared(worse, baseline=(stored.report, stored.spec)))
    assert report2["baseline"]["regressions"] == ["r1", "r2"]
    assert report2["baseline"]["graph_diff"]["params_changed"]["echo"]["prefix"]["new"] == "< "
    assert report2["gate"]["passed"] is False


def test_an_unknown_node_in_the_editor_suite_is_named_before_anything_runs(tmp_path, fresh_database, registry):
    bad = suite(tmp_path)
    bad.assertions[0].node = "nope"
    with pytest.raises(InvalidSuite) as caught:
        prepare_suite(bad, tmp_path, registry, spec=echo_spec("> "))
    assert any(i.code == "unknown_node" and "nope" in i.message for i in caught.value.issues)
