"""What the browser is sent about runs: run-panel fields and parsed inputs, the compact status map, summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from editor import run_views as rv
from runtime.testing.specs import make_spec


def spec():
    return make_spec({"question": ("io.input", {"description": "What to ask"}),
                      "n": ("io.input", {"name": "top_k", "type": "integer", "default": 4}),
                      "strict": ("io.input", {"type": "boolean"}),
                      "extra": ("io.input", {"type": "json", "default": {"a": 1}}),
                      "echo": ("demo.echo", {}), "out": ("io.output", {})},
                     [("question", "value", "echo", "value"), ("echo", "value", "out", "value")])


def test_one_field_per_input_typed_by_the_input_type():
    fields = rv.input_fields(spec())
    assert [(f["name"], f["kind"], f["required"]) for f in fields] == [
        ("question", "text", True), ("top_k", "integer", False), ("strict", "boolean", True), ("extra", "json", False)]
    assert fields[0]["description"] == "What to ask"
    assert fields[1]["placeholder"] == "default: 4" and fields[3]["placeholder"] == 'default: {"a": 1}'


def test_inputs_are_parsed_by_type_and_empty_fields_fall_back_to_defaults():
    fields = rv.input_fields(spec())
    inputs, problems = rv.parse_inputs(fields, {"question": "Why?", "top_k": "", "strict": "true", "extra": ""})
    assert problems == [] and inputs == {"question": "Why?", "strict": True}
    inputs, problems = rv.parse_inputs(fields, {"question": "Why?", "top_k": "7", "extra": "[1, 2]"})
    assert inputs == {"question": "Why?", "top_k": 7, "strict": False, "extra": [1, 2]}


def test_bad_inputs_are_reported_with_the_field_and_the_fix():
    fields = rv.input_fields(spec())
    _, problems = rv.parse_inputs(fields, {"question": "  ", "top_k": "many", "extra": "{oops"})
    assert problems == [
        "Input `question` is required: type a value in its field (or give its io.input node a `default`).",
        "Input `top_k`: expected an integer, got 'many'.",
        "Input `extra`: expected JSON (Expecting property name enclosed in double quotes at column 2), got '{oops'.",
    ]


def test_the_status_map_keeps_only_what_the_canvas_shows():
    nodes = {
        "a": {"status": "succeeded", "latency_ms": 12.345, "fired": ["value"], "attempts": 1, "started_at": 1.0,
              "streamed": "long text " * 100, "error": None, "cache_source": None},
        "b": {"status": "running", "latency_ms": None, "fired": [], "attempts": 2, "started_at": 5.5},
        "c": {"status": "cached", "latency_ms": 0.0, "fired": ["value"], "cache_source": "reused"},
        "d": {"status": "queued"},
    }
    assert rv.compact_status(nodes) == {
        "a": {"status": "succeeded", "latency_ms": 12.3, "fired": ["value"]},
        "b": {"status": "running", "started_at": 5.5, "attempts": 2},
        "c": {"status": "cached", "latency_ms": 0.0, "fired": ["value"], "cache": "reused"},
        "d": {"status": "queued"},
    }


def _record(**kw):
    base = {"status": "succeeded", "outputs": None, "latency_ms": None, "attempts": 1, "started_at": None,
            "finished_at": None, "skip_reason": None, "error": None, "trace": None, "cache_hit": False}
    return SimpleNamespace(**{**base, **kw})


def test_stored_node_records_become_views_with_the_ports_that_fired():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    spec_data = {"edges": [{"source": {"node": "f", "port": "error"}, "target": {"node": "x", "port": "v"}}]}
    views = rv.stored_views({
        "ok": _record(outputs={"text": "hi", "usage": {}}, latency_ms=3.0, started_at=t0, finished_at=t0),
        "f": _record(status="failed", error={"type": "E", "message": "m", "handled": True}),
        "s": _record(status="skipped", skip_reason="branch not taken"),
    }, spec_data)
    assert views["ok"]["fired"] == ["text", "usage"] and views["ok"]["started_at"] == t0.timestamp()
    assert views["f"]["fired"] == ["error"] and views["s"]["fired"] == [] and views["s"]["skip_reason"] == "branch not taken"


def test_summary_and_history_rows_of_a_stored_run():
    run = SimpleNamespace(id="r1", status="succeeded", latency_ms=1234.5, total_tokens=393, cost_usd=0.0,
                          node_latency_sum_ms=2000.0, error=None, final_answer="Yes.", review={"status": "approved"},
                          started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), inputs={"query": "How?\nReally?"},
                          source="editor")
    summary = rv.summary_from_record(run)
    assert (summary["latency"], summary["tokens"], summary["cost"], summary["node_sum"]) == ("1.23 s", 393, "$0", "2.00 s")
    assert summary["final_answer"] == "Yes." and summary["review_status"] == "approved"
    row = rv.history_row(run)
    assert row["inputs"] == "query: How? Really?" and row["started"] == "2026-01-02 03:04:05 UTC"
    assert rv.format_ms(0.04) == "0.0 ms" and rv.format_ms(61_000) == "1 min 1 s"


def test_stored_inputs_come_back_as_field_texts_that_parse_to_the_same_values():
    fields = rv.input_fields(spec())
    stored = {"question": "Why?", "top_k": 7, "strict": True, "extra": {"a": [1, 2]}}
    texts = rv.input_texts(stored)
    assert texts == {"question": "Why?", "top_k": "7", "strict": "true", "extra": '{"a": [1, 2]}'}
    assert rv.parse_inputs(fields, texts) == (stored, [])
