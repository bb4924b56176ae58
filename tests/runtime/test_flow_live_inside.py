"""The live view of a run looks inside its flow nodes: each inner node's status (a subflow's one sub-run, a
map's items folded together, a loop's iterations) and a loop's iteration count, as the run goes."""

from __future__ import annotations

import asyncio
from typing import Any

from runtime import api
from runtime.events import NodeFailed, NodeFinished, NodeStarted
from runtime.flow.inner_status import InnerStatuses, flow_key, inner_ids
from runtime.live import LiveRun
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

REGISTRY = flow_registry()
WORK = sub_spec("work", {"doc": ("io.input", {}), "wait": ("demo.delay", {"seconds": 0.05}),
                         "check": ("demo.fail_on", {"value": "bad"}), "summary": ("io.output", {})},
                [("doc.value", "wait.value"), ("wait.value", "check.value"), ("check.value", "summary.value")])


def _main(flow: tuple[str, dict[str, Any]], source: str = "string") -> dict[str, Any]:
    port = "items" if flow[0] == "flow.map" else "doc"
    return sub_spec("main", {"q": ("io.input", {"type": source}), "f": flow, "out": ("io.output", {})},
                    [("q.value", f"f.{port}"), ("f.summary", "out.value")])


def _live(main: dict[str, Any], inputs: dict[str, Any], consumer: Any = None) -> LiveRun:
    execution = api.execute(api.compile(with_subflows(main, work=WORK), REGISTRY), inputs)
    view = LiveRun(execution, pipeline_id=None, consumers=[])
    if consumer is not None:
        view._consumers = [lambda event: consumer(view, event)]
    return view


async def test_a_subflows_inner_nodes_read_like_top_level_nodes_while_it_runs_and_after():
    seen: list[dict[str, str]] = []
    view = _live(_main(("flow.subflow", {"subflow": "work"})), {"q": "a"},
                 lambda v, _e: seen.append({k: e["status"] for k, e in v.inner_views("f").items()}))
    await view.drive()
    assert view.status == "succeeded"
    assert any(s["doc"] == "succeeded" and s["wait"] == "running" for s in seen if s)  # watched while it runs
    final = view.inner_views("f")
    assert {k: e["status"] for k, e in final.items()} == dict.fromkeys(("doc", "wait", "check", "summary"),
                                                                        "succeeded")
    assert final["wait"]["counts"] is None and final["wait"]["fired"] == ["value"]  # one sub-run: no counts
    assert final["wait"]["latency_ms"] >= 40
    assert view.inner_views("q") == {} and view.inner_views("nowhere") == {}


async def test_a_maps_inner_node_is_running_while_any_item_runs_it_and_counts_its_failures():
    main = _main(("flow.map", {"subflow": "work", "over": "doc", "concurrency": 2, "on_item_error": "skip"}),
                 "json")
    seen: list[dict[str, Any]] = []
    view = _live(main, {"q": ["a", "bad", "c", "d"]}, lambda v, _e: seen.append(v.inner_views("f")))
    await view.drive()
    assert view.status == "succeeded"
    assert any((s.get("wait", {}).get("counts") or [0])[0] == 2 and s["wait"]["status"] == "running" for s in seen)
    final = view.inner_views("f")
    assert final["wait"] == {**final["wait"], "status": "succeeded", "counts": [0, 4, 0]}
    assert final["check"]["status"] == "failed" and final["check"]["counts"] == [0, 3, 1]
    assert final["summary"]["counts"] == [0, 3, 0]  # the failed item never reached its output


async def test_a_loops_iteration_shows_while_it_runs_then_its_final_count():
    main = _main(("flow.loop", {"subflow": "work", "max_iterations": 5,
                                "until": {"output": "summary", "operator": "equals", "value": "never"}}))
    seen: list[list[int] | None] = []
    view = _live(main, {"q": "a"}, lambda v, _e: seen.append(v.snapshot()["nodes"]["f"]["loop"]))
    await view.drive()
    counts = [c for c in seen if c is not None]
    assert counts[0] == [0, 5]
    assert [[i, 5] for i in range(1, 6)] == [c for i, c in enumerate(counts) if c != counts[i - 1]][1:]
    assert view.snapshot()["nodes"]["f"]["loop"] == [5, 5]
    assert view.snapshot()["nodes"]["q"]["loop"] is None
    wait = view.inner_views("f")["wait"]
    assert (wait["status"], wait["counts"]) == ("succeeded", [0, 5, 0])


async def test_a_loop_stopped_by_its_condition_ends_at_that_iteration():
    main = _main(("flow.loop", {"subflow": "work", "max_iterations": 10,
                                "until": {"output": "summary", "operator": "equals", "value": "a"}}))
    view = _live(main, {"q": "a"})
    await view.drive()
    assert view.snapshot()["nodes"]["f"]["loop"] == [1, 10]


async def test_an_inner_node_still_running_when_the_run_is_stopped_is_not_shown_running():
    main = _main(("flow.subflow", {"subflow": "work"}))
    view = _live(main, {"q": "a"}, lambda v, e: v.cancel() if getattr(e, "node_path", None) == ["f", 0, "wait"]
                 and isinstance(e, NodeStarted) else None)
    await asyncio.wait_for(view.drive(), 10)
    assert view.status == "cancelled"
    assert view.inner_views("f")["wait"]["status"] == "cancelled"


def _event(cls: type, path: list[Any], **fields: Any) -> Any:
    defaults = {NodeStarted: {"attempt": 1, "inputs": {}},
                NodeFinished: {"latency_ms": 1.0, "attempts": 1, "outputs": {"value": "x"}},
                NodeFailed: {"latency_ms": 1.0, "attempts": 1, "error": None}}[cls]
    node_id = "/".join(map(str, path))
    return cls(run_id="r", node_id=node_id, ts=1.0, node_path=path, **{**defaults, **fields})


class _Plan:
    nodes = [type("N", (), {"id": "outer", "component_id": "flow.map"})()]


def test_nested_flows_fold_under_their_path_without_indices_and_a_restart_forgets_them():
    assert flow_key(["outer", 3, "m", 0, "work"]) == "outer/m"
    statuses = InnerStatuses(_Plan())
    for item in range(3):
        statuses.fold(_event(NodeStarted, ["outer", item, "m", 0, "work"]))
        statuses.fold(_event(NodeStarted, ["outer", item, "m", 0, "work"], attempt=2))  # a retry: still one run
    assert statuses.views("outer/m")["work"]["counts"] == [3, 0, 0]
    statuses.fold(_event(NodeFinished, ["outer", 0, "m", 0, "work"]))
    statuses.fold(_event(NodeFailed, ["outer", 1, "m", 0, "work"], handled=True))
    work = statuses.views("outer/m")["work"]
    assert (work["status"], work["counts"], work["fired"], work["attempts"]) == ("running", [1, 1, 1],
                                                                                ["error", "value"], 2)
    assert statuses.views("outer/m") != {} and statuses.views("outer") == {}
    statuses.restarted("outer")
    assert statuses.views("outer/m") == {}
    statuses.fold(_event(NodeFinished, ["outer", 2, "m", 0, "work"]))  # the old item's run ends: not in flight now
    assert statuses.views("outer/m")["work"]["counts"] is None


async def test_inner_nodes_not_started_yet_are_queued_while_their_flow_node_runs():
    seen: list[dict[str, str]] = []
    view = _live(_main(("flow.subflow", {"subflow": "work"})), {"q": "a"},
                 lambda v, _e: seen.append({k: e["status"] for k, e in v.inner_views("f").items()}))
    await view.drive()
    assert {"doc": "succeeded", "wait": "running", "check": "queued", "summary": "queued"} in seen
    before = view.nodes["f"]
    assert before.status == "succeeded" and set(view.inner_views("f")) == {"doc", "wait", "check", "summary"}


def test_the_inner_ids_of_a_nested_flow_node_come_from_its_subflows_plan():
    inner = sub_spec("inner", {"x": ("io.input", {}), "y": ("io.output", {})}, [("x.value", "y.value")])
    work = sub_spec("work", {"doc": ("io.input", {}), "sub": ("flow.subflow", {"subflow": "inner"}),
                             "summary": ("io.output", {})}, [("doc.value", "sub.x"), ("sub.y", "summary.value")])
    plan = api.compile(with_subflows(_main(("flow.subflow", {"subflow": "work"})), work=work, inner=inner), REGISTRY)
    assert inner_ids(plan, "f") == ["doc", "sub", "summary"]
    assert inner_ids(plan, "f/sub") == ["x", "y"]
    assert inner_ids(plan, "q") == [] and inner_ids(plan, "f/nowhere") == [] and inner_ids(plan, "") == []


async def test_a_loop_inside_a_subflow_shows_its_iteration_while_it_runs_then_the_count_it_ran():
    wrap = sub_spec("wrap", {"doc": ("io.input", {}), "lp": ("flow.loop", {"subflow": "work", "max_iterations": 3}),
                             "summary": ("io.output", {})}, [("doc.value", "lp.doc"), ("lp.summary", "summary.value")])
    plan = api.compile(with_subflows(_main(("flow.subflow", {"subflow": "wrap"})), work=WORK, wrap=wrap), REGISTRY)
    seen: list[list[int]] = []
    view = LiveRun(api.execute(plan, {"q": "a"}), pipeline_id=None, consumers=[])
    view._consumers = [lambda _e: seen.append(view.inner_views("f").get("lp", {}).get("loop"))]
    await view.drive()
    assert view.status == "succeeded"
    changes = [c for i, c in enumerate(seen) if c is not None and c != seen[i - 1]]
    assert changes == [[0, 3], [1, 3], [2, 3], [3, 3]]
    assert view.inner_views("f")["lp"]["loop"] == [3, 3] and view.inner_views("f")["doc"]["loop"] is None
    assert view.snapshot()["nodes"]["f"]["loop"] is None  # the top-level node is a subflow, not a loop


def test_a_nested_loops_iteration_folds_over_the_items_running_it_and_restarts_with_it():
    statuses = InnerStatuses(None, {"outer/lp": 5})
    for item in (0, 1):
        statuses.fold(_event(NodeStarted, ["outer", item, "lp"]))
    statuses.fold(_event(NodeStarted, ["outer", 0, "lp", 2, "work"]))
    statuses.fold(_event(NodeStarted, ["outer", 1, "lp", 0, "work"]))
    assert statuses.views("outer")["lp"]["loop"] == [3, 5]  # the furthest iteration of the runs in flight
    statuses.fold(_event(NodeFinished, ["outer", 0, "lp"], trace={"loop": {"iterations": 4}}))
    assert statuses.views("outer")["lp"]["loop"] == [4, 5]  # then the count its latest run ended with
    statuses.fold(_event(NodeStarted, ["outer", 2, "lp"]))
    assert statuses.views("outer")["lp"]["loop"] == [0, 5]
    statuses.fold(_event(NodeStarted, ["other", 0, "lp", 1, "work"]))  # not a loop: no count anywhere
    assert statuses.views("other/lp")["work"]["loop"] is None and statuses.views("other") == {}
