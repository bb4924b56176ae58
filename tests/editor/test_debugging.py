"""The editor's debugger: breakpoints stored beside the pipeline (never in the spec or its exports), the
debugger a run gets from them, the paused inputs as editable JSON, and the history's note for edited runs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from editor import breakpoints
from editor.debugging import debugger_for, edited_note, inputs_text, parse_inputs_text, toggled
from editor.graph import spec_to_dict
from editor.run_views import history_row, summary_from_record
from runtime import PipelineSpec, compile
from runtime.store import pipelines as store
from runtime.testing.components import sample_registry
from runtime.testing.specs import chain_spec

SPEC = {"schema_version": 1, "name": "p", "nodes": [{"id": "gen", "component": "demo.echo", "version": 1},
                                                    {"id": "other", "component": "demo.echo", "version": 1}],
        "edges": []}


@pytest.mark.usefixtures("database")  # SQLite and PostgreSQL
def test_breakpoints_are_stored_per_pipeline_toggled_and_removed():
    a, b = store.create_pipeline(SPEC).id, store.create_pipeline(SPEC).id
    assert breakpoints.set_breakpoints(a, ["gen", "other"], True) == ["gen", "other"]
    assert breakpoints.set_breakpoints(a, ["gen"], True) == ["gen", "other"]  # setting twice keeps one
    assert breakpoints.list_breakpoints(b) == []
    assert breakpoints.set_breakpoints(a, ["gen"], False) == ["other"]
    breakpoints.set_breakpoints(b, ["gen"], True)
    breakpoints.remove_breakpoints(b)
    assert breakpoints.list_breakpoints(b) == [] and breakpoints.list_breakpoints(a) == ["other"]


@pytest.mark.usefixtures("fresh_database")
def test_exporting_a_pipeline_with_breakpoints_has_no_trace_of_them():
    record = store.create_pipeline(SPEC)
    breakpoints.set_breakpoints(record.id, ["gen"], True)
    saved = store.get_pipeline(record.id).spec
    exported = json.dumps(spec_to_dict(PipelineSpec.model_validate(saved)))
    for text in (json.dumps(saved), exported):
        assert "breakpoint" not in text.lower()


def test_a_run_gets_a_debugger_only_with_breakpoints_on_nodes_it_has():
    plan = compile(chain_spec(2), sample_registry())
    assert debugger_for([], plan) is None
    assert debugger_for(["deleted-since"], plan) is None  # no debugger: the executor's hook costs nothing
    debugger = debugger_for(["n1", "deleted-since"], plan)
    assert debugger is not None and debugger.breakpoints == {"n1"}


def test_f9_on_several_nodes_sets_them_all_unless_all_have_one():
    assert toggled([], ["a", "b"]) is True
    assert toggled(["a"], ["a", "b"]) is True
    assert toggled(["a", "b"], ["a", "b"]) is False


def test_paused_inputs_are_json_and_a_bad_edit_says_why():
    assert inputs_text({"prompt": "hi", "n": 2}) == '{\n  "prompt": "hi",\n  "n": 2\n}'
    assert parse_inputs_text("gen", '{"prompt": "edited"}') == {"prompt": "edited"}
    with pytest.raises(ValueError) as error:
        parse_inputs_text("gen", '{"prompt": ')
    assert str(error.value) == ("The inputs of `gen` are not valid JSON: Expecting value at line 1, column 12. "
                                "Fix it and continue again; the node stays paused.")
    with pytest.raises(ValueError, match=r"must be a JSON object of port names to values"):
        parse_inputs_text("gen", '["x"]')


def test_a_run_edited_at_a_breakpoint_is_marked_in_the_history_and_its_summary():
    run = SimpleNamespace(id="r1", status="succeeded", started_at=None, latency_ms=12.0, cost_usd=None,
                          total_tokens=0, inputs={"q": "x"}, review=None, source="editor", error=None,
                          node_latency_sum_ms=None, final_answer=None, breakpoint_edits=["gen", "other"])
    assert edited_note(run) == "inputs edited at breakpoint (gen, other)"
    assert history_row(run)["edited"] == summary_from_record(run)["edited"] == edited_note(run)
    run.breakpoint_edits = None
    assert history_row(run)["edited"] == ""
