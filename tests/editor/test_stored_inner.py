"""A run opened from History shows the inside of its flow nodes as the live view did at the end of the run: its
stored inner node records go through the live view's own fold (a map's items per inner node with their counts,
a nested loop's iteration count), at every level of nested flows, or one item's part of it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from editor.state.subflow_live import inner_canvas, opened_within
from editor.stored_inner import loop_bounds, record_path, records_prefix, stored_inner_canvas
from runtime import api
from runtime.live import LiveRun
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

STEP = sub_spec("step", {"doc": ("io.input", {}), "echo": ("demo.echo", {"prefix": "s:"}), "summary": ("io.output", {})},
                [("doc.value", "echo.value"), ("echo.value", "summary.value")])
ITEM = sub_spec("item", {"doc": ("io.input", {}), "check": ("demo.fail_on", {"value": "bad"}),
                         "lp": ("flow.loop", {"subflow": "step", "max_iterations": 3}), "summary": ("io.output", {})},
                [("doc.value", "check.value"), ("check.value", "lp.doc"), ("lp.summary", "summary.value")])
MAIN = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                         "m": ("flow.map", {"subflow": "item", "over": "doc", "concurrency": 2,
                                            "on_item_error": "skip"}),
                         "out": ("io.output", {})},
                [("docs.value", "m.items"), ("m.summary", "out.value")])
SPEC = with_subflows(MAIN, item=ITEM, step=STEP)


async def _run_watched_and_stored() -> tuple[LiveRun, Any, dict[str, Any]]:
    """Run SPEC once with the live view and the recorder consuming the same events."""
    plan = api.compile(SPEC, flow_registry())
    recorder = RunRecorder(spec=plan.spec)
    view = LiveRun(api.execute(plan, {"docs": ["a", "bad", "c"]}), pipeline_id=None, consumers=[recorder])
    await view.drive()
    recorder.flush()
    run, records = get_run(view.run_id)
    return view, run, records


def _without_latency(statuses: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {node_id: {k: v for k, v in entry.items() if k != "latency_ms"} for node_id, entry in statuses.items()}


@pytest.mark.usefixtures("fresh_database")
async def test_a_stored_runs_flow_nodes_fold_like_the_live_view_at_every_level():
    view, run, records = await _run_watched_and_stored()
    assert view.status == "succeeded"
    stored = stored_inner_canvas(records, "m", run.spec)
    assert stored["check"] == {"status": "failed", "latency_ms": stored["check"]["latency_ms"], "fired": ["value"],
                               "counts": [0, 2, 1]}
    assert stored["lp"]["loop"] == [3, 3] and stored["lp"]["counts"] == [0, 2, 0]  # skipped in the failed item
    assert stored["summary"]["status"] == "succeeded" and "loop" not in stored["summary"]
    nested = stored_inner_canvas(records, "m/lp", run.spec)
    assert nested["echo"]["counts"] == [0, 6, 0]  # 2 items x 3 iterations
    for flow in ("m", "m/lp"):  # the same fold as the live view's: equal but for which run's latency is the latest
        live = inner_canvas(view, flow)
        assert _without_latency(stored_inner_canvas(records, flow, run.spec)) == _without_latency(live)
        assert all(isinstance(entry["latency_ms"], float) for entry in live.values())


@pytest.mark.usefixtures("fresh_database")
async def test_opened_inside_one_item_only_that_items_runs_are_folded():
    _view, run, records = await _run_watched_and_stored()
    within = opened_within("m/0/", "", "lp")
    assert within == "m/0/lp/"
    only = {node_id: r for node_id, r in records.items() if node_id.startswith(records_prefix("m/lp", within))}
    echo = stored_inner_canvas(only, "m/lp", run.spec)["echo"]
    assert echo["status"] == "succeeded" and echo["counts"] == [0, 3, 0]
    assert stored_inner_canvas(records, "m", None)["lp"].get("loop") is None  # no stored spec: no bound to show


def _record(node_id: str, status: str, second: int, **fields: Any) -> Any:
    at = datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC)
    return SimpleNamespace(node_id=node_id, status=status, started_at=at, finished_at=None if status == "running" else at,
                           latency_ms=5.0, attempts=1, outputs={"value": "x"}, error=None, trace=None, **fields)


def test_an_interrupted_runs_inner_node_is_not_shown_running_and_a_nested_loop_keeps_its_last_iteration():
    records = {r.node_id: r for r in (
        _record("outer/0/work", "succeeded", 1), _record("outer/0/lp", "running", 2),
        _record("outer/0/lp/0/step", "succeeded", 3), _record("outer/0/lp/1/step", "running", 4))}
    spec = {"nodes": [{"id": "outer", "component": "flow.subflow", "params": {"subflow": "wrap"}}],
            "subflows": {"wrap": {"nodes": [{"id": "lp", "component": "flow.loop",
                                             "params": {"subflow": "body", "max_iterations": 4}}]},
                         "body": {"nodes": []}}}
    statuses = stored_inner_canvas(records, "outer", spec)
    assert statuses["work"] == {"status": "succeeded", "latency_ms": 5.0, "fired": ["value"]}
    assert statuses["lp"] == {"status": "cancelled", "loop": [2, 4]}  # it was in iteration 2 when the run stopped
    assert stored_inner_canvas(records, "outer/lp", spec)["step"]["status"] == "succeeded"


def test_stored_paths_and_loop_bounds():
    assert record_path("map1/3/summarise") == ["map1", 3, "summarise"]
    assert record_path("outer/0/m/12/work") == ["outer", 0, "m", 12, "work"]
    assert records_prefix("outer/m") == "outer/" and records_prefix("outer/m", "outer/2/m/") == "outer/2/m/"
    assert opened_within("", "", "m") == "" and opened_within("", "outer/2/m/", "m2") == "outer/2/m/"
    assert loop_bounds(SPEC.model_dump(mode="json")) == {"m/lp": 3}  # a top-level loop counts itself
    looping = {"nodes": [{"id": "a", "component": "flow.subflow", "params": {"subflow": "x"}}],
               "subflows": {"x": {"nodes": [{"id": "b", "component": "flow.subflow", "params": {"subflow": "x"}}]}}}
    assert loop_bounds(looping) == {} and loop_bounds(None) == {}  # a (refused) cycle is not walked for ever
