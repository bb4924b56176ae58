"""A run inside flow nodes, as the editor shows it: items and iterations, one item's canvas, the nested timeline.

Runs are real (the executor with the recorder into a private SQLite database), read back the way the
editor reads them (`editor.flow_records`).
"""

from __future__ import annotations

import pytest

from editor import flow_records
from editor import run_views as rv
from editor.flow_runs import by_item, item_canvas, item_rows, nest_timeline
from runtime import api
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run
from runtime.testing.flows import flow_registry, sub_spec, with_subflows
from runtime.timeline import build_timeline

EACH = sub_spec("each", {"doc": ("io.input", {}), "work": ("demo.fail_on", {"value": "bad"}),
                         "tag": ("demo.echo", {"prefix": "s:"}), "summary": ("io.output", {})},
                [("doc.value", "work.value"), ("work.value", "tag.value"), ("tag.value", "summary.value")])
MAP = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                        "m": ("flow.map", {"subflow": "each", "over": "doc", "on_item_error": "skip"}),
                        "out": ("io.output", {})},
               [("docs.value", "m.items"), ("m.summary", "out.value")])
STEP = sub_spec("step", {"text": ("io.input", {}), "grow": ("demo.echo", {"prefix": "+"}), "text_out": ("io.output", {})},
                [("text.value", "grow.value"), ("grow.value", "text_out.value")])
LOOP = sub_spec("main", {"q": ("io.input", {}),
                         "l": ("flow.loop", {"subflow": "step", "max_iterations": 3, "carry": {"text_out": "text"}}),
                         "out": ("io.output", {})},
                [("q.value", "l.text"), ("l.text_out", "out.value")])

pytestmark = pytest.mark.usefixtures("fresh_database")


async def recorded(spec, inputs):
    plan = api.compile(spec, flow_registry())
    recorder = RunRecorder(spec=plan.spec)
    execution = api.execute(plan, inputs)
    await execution.consume(recorder)
    recorder.flush()
    return get_run(execution.run_id)


async def test_a_maps_items_in_order_with_status_latency_and_output_preview():
    run, nodes = await recorded(with_subflows(MAP, each=EACH), {"docs": ["a", "bad", "c"]})
    items = by_item(nodes, "m")
    assert list(items) == [0, 1, 2] and set(items[0]) == {"doc", "work", "tag", "summary"}
    rows = item_rows("m", "flow.map", items, ["summary"])
    assert [(r["testid"], r["label"], r["status"]) for r in rows] == [
        ("map-item-m-0", "item 0", "succeeded"), ("map-item-m-1", "item 1", "failed"),
        ("map-item-m-2", "item 2", "succeeded")]
    assert rows[0]["preview"] == "s:a" and rows[2]["preview"] == "s:c"
    assert rows[1]["preview"] == "work: ValueError: refusing 'bad'"
    assert rows[0]["latency"].endswith("ms")
    assert len(item_rows("m", "flow.map", items, ["summary"], limit=2)) == 2


async def test_one_items_canvas_shows_its_inner_nodes_only_and_the_map_its_counts():
    run, nodes = await recorded(with_subflows(MAP, each=EACH), {"docs": ["a", "bad"]})
    status = item_canvas(nodes, "m/1/", run.spec["subflows"]["each"])
    assert status["work"]["status"] == "failed" and set(status) == {"doc", "work", "tag", "summary"}
    assert item_canvas(nodes, "m/0/", None)["summary"]["status"] == "succeeded"
    top = rv.stored_status(nodes, run.spec)
    assert set(top) == {"docs", "m", "out"}  # the items' inner nodes are not the pipeline's canvas
    assert top["m"]["progress"] == [1, 2, 1]


async def test_a_loops_iterations_count_from_one():
    run, nodes = await recorded(with_subflows(LOOP, step=STEP), {"q": "x"})
    rows = item_rows("l", "flow.loop", by_item(nodes, "l"), ["text_out"])
    assert [(r["testid"], r["label"], r["preview"]) for r in rows] == [
        ("loop-iteration-l-1", "iteration 1", "+x"), ("loop-iteration-l-2", "iteration 2", "++x"),
        ("loop-iteration-l-3", "iteration 3", "+++x")]


async def test_the_timeline_lists_items_under_their_flow_node():
    run, nodes = await recorded(with_subflows(MAP, each=EACH), {"docs": ["a", "c"]})
    started = run.started_at.timestamp()
    spec = api.compile(with_subflows(MAP, each=EACH), flow_registry()).spec
    timeline = build_timeline(spec, rv.stored_views(nodes, run.spec), started, run.latency_ms)
    nested = nest_timeline(timeline, nodes, {"m": "flow.map"}, started)
    assert [(r["node_id"], r["depth"], r["label"]) for r in nested["rows"]] == [
        ("docs", 0, "docs"), ("m", 0, "m"), ("m/0", 1, "item 0"), ("m/1", 1, "item 1"), ("out", 0, "out")]
    assert all(r["duration_ms"] >= 0 for r in nested["rows"])


async def test_records_under_a_path_are_read_with_the_runs_spec():
    run, _ = await recorded(with_subflows(MAP, each=EACH), {"docs": ["a", "b"]})
    spec, records = await flow_records.read_under(run.id, "m/1/")
    assert spec["subflows"]["each"]["name"] == "each"
    assert sorted(records) == ["m/1/doc", "m/1/summary", "m/1/tag", "m/1/work"]
    assert await flow_records.read_under("no-such-run", "m/") == (None, {})
