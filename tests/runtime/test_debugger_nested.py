"""Breakpoints inside flow nodes (`runtime.debug`, `runtime.debug_paths`): a node of a subflow, a map item or a
loop iteration pauses by its path (`s/work`: every run of it, `m/1/work`: that item only), shows its inputs,
is edited (type-checked), continued, stepped within its item, or stopped; breakpoints may change mid-run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from runtime import Component, RunContext, component, execute
from runtime.debug import Debugger, InputEditError, SubRunStops
from runtime.debug_paths import breakpoints_on
from runtime.events import NodePaused, NodeResumed
from runtime.live import LiveRuns
from runtime.testing.components import TextValue
from runtime.testing.events import terminal_once
from runtime.testing.flows import flow_registry, nested_flows_spec
from tests.runtime.test_debugger import WAIT_S, Driven

SEEN: dict[str, Any] = {}  # node path -> the debugger its run had


@component(id="test.sees_debugger", version=1, title="Sees debugger", category="Testing")
class SeesDebugger(Component):
    """Notes what the executor running it would ask at a breakpoint (its run's `debugger`)."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        SEEN[ctx.node_path] = ctx.execution.debugger
        return TextValue(value=inputs.value)


REGISTRY = flow_registry()
REGISTRY.add(SeesDebugger)


def flows(work: str = "demo.echo") -> Any:
    return nested_flows_spec(work, loop=True)


INPUTS = {"docs": ["a", "b", "c"], "q": "x"}
ALL_DONE = {"out": ["t:w:a", "t:w:b", "t:w:c"], "one": "t:w:x", "looped": "t:w:x",
            "deep": [["t:w:a"], ["t:w:b"], ["t:w:c"]]}


def driven(breakpoints: set[str], spec: Any = None, **kwargs: Any) -> Driven:
    return Driven(spec or flows(), INPUTS, breakpoints, registry=REGISTRY, **kwargs)


def pauses(run: Driven) -> list[NodePaused]:
    return [e for e in run.events if isinstance(e, NodePaused)]


async def test_a_node_inside_a_subflow_pauses_by_its_path_and_continues():
    run = driven({"s/work"})
    paused = await run.paused_at("s/0/work")
    assert (paused.inputs, paused.reason, paused.node_path) == ({"value": "x"}, "breakpoint", ["s", 0, "work"])
    assert run.kinds("s/0/work") == ["node_paused"] and run.execution.status == "running"
    held = run.debugger.paused["s/0/work"]
    assert (held.node_id, held.component_id, held.node_path) == ("s/0/work", "demo.echo", ["s", 0, "work"])
    assert run.debugger.resume("s/0/work") == {}
    end = await run.finished()
    assert (end.status, end.outputs) == ("succeeded", ALL_DONE)
    assert run.kinds("s/0/work") == ["node_paused", "node_resumed", "node_started", "node_finished"]
    resumed = next(e for e in run.events if isinstance(e, NodeResumed))
    assert (resumed.node_id, resumed.node_path, resumed.action) == ("s/0/work", ["s", 0, "work"], "continue")
    assert run.debugger.paused == {} and run.debugger._scopes == set()  # every sub-run's stops let go
    terminal_once(run.events)


async def test_a_breakpoint_in_a_map_pauses_every_item_and_an_edit_changes_that_items_output():
    run = driven({"m/work"})
    for index in range(3):
        await run.paused_at(f"m/{index}/work")
    assert [p.inputs for p in sorted(pauses(run), key=lambda p: p.node_id)] == [{"value": v} for v in "abc"]
    assert run.debugger.resume("m/1/work", {"value": "edited"}) == {"value": "edited"}
    run.debugger.resume("m/0/work")
    run.debugger.resume("m/2/work")
    end = await run.finished()
    assert end.status == "succeeded" and end.outputs["out"] == ["t:w:a", "t:w:edited", "t:w:c"]
    resumed = next(e for e in run.events if isinstance(e, NodeResumed) and e.node_id == "m/1/work")
    assert (resumed.edited, resumed.original) == ({"value": "edited"}, {"value": "b"})
    assert {p.node_id for p in pauses(run)} == {"m/0/work", "m/1/work", "m/2/work"}  # not `nested`'s `m2`


async def test_an_index_in_the_path_pauses_only_that_item_or_iteration_while_the_others_go_on():
    run = driven({"m/1/work", "lp/1/work"})
    await run.paused_at("m/1/work")
    await run.paused_at("lp/1/work")  # the loop's first iteration ran through
    await run.until(lambda: "node_finished" in run.kinds("m/2/tag"), "the other items to finish")
    assert run.kinds("m/0/summary")[-1] == "node_finished" and run.kinds("lp/0/tag")[-1] == "node_finished"
    assert run.kinds("m/1/tag") == [] and run.kinds("m") == ["node_started"]
    run.debugger.resume("m/1/work")
    run.debugger.resume("lp/1/work")
    assert (await run.finished()).outputs == ALL_DONE
    assert sorted(p.node_id for p in pauses(run)) == ["lp/1/work", "m/1/work"]


async def test_a_node_in_nested_flows_pauses_by_the_flow_nodes_ids_and_its_own():
    run = driven({"nested/m2/work"})
    for index in range(3):
        paused = await run.paused_at(f"nested/{index}/m2/0/work")
        assert paused.node_path == ["nested", index, "m2", 0, "work"]
    for index in range(3):
        run.debugger.resume(f"nested/{index}/m2/0/work", {"value": f"n{index}"})
    assert (await run.finished()).outputs["deep"] == [["t:w:n0"], ["t:w:n1"], ["t:w:n2"]]


async def test_an_edit_inside_a_flow_node_is_type_checked_and_the_node_stays_paused():
    run = driven({"s/work"})
    await run.paused_at("s/0/work")
    with pytest.raises(InputEditError) as error:
        run.debugger.resume("s/0/work", {"value": 3})
    assert str(error.value) == ("Node `s/0/work` (`demo.echo` v1): input `value` expects str, but the edit gives "
                                "int 3. Fix the value and continue again; the node stays paused until then.")
    await asyncio.sleep(0.02)
    assert "s/0/work" in run.debugger.paused and run.kinds("s/0/work") == ["node_paused"]
    run.debugger.resume("s/0/work", {"value": "fixed"})
    assert (await run.finished()).outputs["one"] == "t:w:fixed"


async def test_step_inside_a_map_item_pauses_at_what_it_makes_ready_in_that_item_only():
    run = driven({"m/work"})
    for index in range(3):
        await run.paused_at(f"m/{index}/work")
    run.debugger.step("m/1/work")
    paused = await run.paused_at("m/1/tag")
    assert (paused.reason, paused.inputs) == ("step", {"value": "w:b"})
    run.debugger.resume("m/0/work")
    run.debugger.resume("m/2/work")
    await run.until(lambda: "node_finished" in run.kinds("m/2/tag"), "item 2 to go past `tag`")
    assert "m/0/tag" not in run.debugger.paused and "m/2/tag" not in run.debugger.paused
    run.debugger.step("m/1/tag")  # then the item's output node
    assert (await run.paused_at("m/1/summary")).reason == "step"
    run.debugger.resume("m/1/summary")
    assert (await run.finished()).outputs == ALL_DONE
    assert sorted(p.node_id for p in pauses(run)) == ["m/0/work", "m/1/summary", "m/1/tag", "m/1/work", "m/2/work"]


async def test_stopping_while_a_node_inside_a_map_is_paused_cancels_the_run_within_a_second():
    run = driven({"m/1/work"})
    await run.paused_at("m/1/work")
    started = time.perf_counter()
    run.debugger.stop()
    end = await run.finished()
    assert end.status == "cancelled" and time.perf_counter() - started < 1.0
    assert run.debugger.paused == {} and run.debugger._scopes == set()
    assert all(task.done() for task in run.execution._tasks.values())
    assert not any(isinstance(e, NodeResumed) for e in run.events)


async def test_breakpoints_changed_mid_run_reach_the_sub_runs_in_flight():
    run = driven({"s/work"})
    await run.paused_at("s/0/work")
    run.debugger.set_breakpoints({"s/work", "s/tag"})
    run.debugger.resume("s/0/work")
    assert (await run.paused_at("s/0/tag")).reason == "breakpoint"
    run.debugger.set_breakpoints(set())
    run.debugger.resume("s/0/tag")
    assert (await run.finished()).outputs == ALL_DONE


def test_a_path_that_names_no_node_is_refused_with_what_is_there():
    def refused(*breakpoints: str) -> str:
        with pytest.raises(ValueError) as error:
            execute(flows(), INPUTS, registry=REGISTRY, debugger=Debugger(breakpoints))
        return str(error.value)

    assert refused("s/zz") == ("Cannot set a breakpoint on `s/zz`: subflow `each` (run by `s`) has no node `zz`. "
                               "Its nodes: `doc`, `work`, `tag`, `summary`.")
    assert refused("q/work") == ("Cannot set a breakpoint on `q/work`: `q` (`io.input`) is not a flow node, so no "
                                 "node runs inside it. Flow nodes in the pipeline: `m`, `s`, `lp`, `nested`.")
    assert refused("nested/zz/work").startswith("Cannot set a breakpoint on `nested/zz/work`: subflow `outer` (run "
                                                "by `nested`) has no node `zz`. Its nodes: `docs`, `m2`, `summary`.")
    assert refused("m//work", "m/1/2/work") == (
        "Cannot set a breakpoint on `m//work`: write the flow nodes' ids and the node's id joined by `/`, an item "
        "or iteration index after a flow node if you want only that one (`map1/summarise`, `map1/3/summarise`). "
        "Cannot set a breakpoint on `m/1/2/work`: write the flow nodes' ids and the node's id joined by `/`, an item "
        "or iteration index after a flow node if you want only that one (`map1/summarise`, `map1/3/summarise`).")
    assert refused("zz", "zz/work") == (
        "Cannot set a breakpoint on `zz`: the pipeline has no such node. Its nodes: `docs`, `q`, `m`, `s`, `lp`, "
        "`nested`, `out`, `one`, `looped`, `deep`. Cannot set a breakpoint on `zz/work`: the pipeline has no node "
        "`zz`. Its nodes: `docs`, `q`, `m`, `s`, `lp`, `nested`, `out`, `one`, `looped`, `deep`.")
    plan = execute(flows(), INPUTS, registry=REGISTRY).plan
    assert breakpoints_on(plan, ["zz", "m", "m/work", "m/3/work", "m/zz", "q/work", "m//work"]) == \
        ["m", "m/work", "m/3/work"]
    debugger = Debugger()
    execute(flows(), INPUTS, registry=REGISTRY, debugger=debugger)
    debugger.set_breakpoints({"m/work", "s/zz", "m/9/work", "zz"}, skip_unknown=True)
    assert debugger.breakpoints == {"m/work", "m/9/work"}  # an index past the items is no error: none pauses


async def test_sub_runs_of_a_plain_run_have_no_debugger_and_a_debugged_runs_one_with_only_their_stops():
    spec = flows(work="test.sees_debugger")
    SEEN.clear()
    await execute(spec, INPUTS, registry=REGISTRY).consume(lambda event: None)
    assert set(SEEN) >= {"m/0/work", "s/0/work", "lp/1/work", "nested/2/m2/0/work"}
    assert set(SEEN.values()) == {None}  # the executor's one `is None` test per node
    SEEN.clear()
    run = driven({"m/2/work"}, spec)
    await run.paused_at("m/2/work")
    run.debugger.resume("m/2/work")
    await run.finished()
    assert all(isinstance(seen, SubRunStops) for seen in SEEN.values())
    by_path = {path: seen.stops for path, seen in SEEN.items()}
    work = run.execution.plan.nodes[run.execution.plan.by_id["m"]].component.plan.by_id["work"]
    assert by_path["m/2/work"] == {work} and by_path["m/0/work"] == by_path["s/0/work"] == frozenset()


async def test_a_live_run_lists_a_paused_inner_node_by_its_path_and_forgets_it_when_stopped():
    from runtime import compile

    live = LiveRuns().start(compile(flows(), REGISTRY), INPUTS, record=False, debugger=Debugger({"m/1/work"}))
    deadline = time.monotonic() + WAIT_S
    while live.snapshot()["paused"] != ["m/1/work"]:  # the live run folds the events in its own task
        assert time.monotonic() < deadline, live.snapshot()["paused"]
        await asyncio.sleep(0.002)
    assert "m/1/work" in live.debugger.paused and live.inner["m/1/work"].status == "paused"
    live.cancel()
    await asyncio.wait_for(live.task, WAIT_S)
    assert live.snapshot()["status"] == "cancelled" and live.snapshot()["paused"] == []
    assert live.inner["m/1/work"].status == "cancelled"
