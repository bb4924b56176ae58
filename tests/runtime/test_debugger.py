"""Breakpoints (`runtime.debug`): a run pauses before a node, shows its inputs, and continues, steps or stops;
independent branches keep running meanwhile; edited inputs are type-checked, flow downstream and are recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from runtime import execute
from runtime.debug import Debugger, InputEditError, NotPaused
from runtime.events import NodeCancelled, NodePaused, NodeResumed, NodeStarted, RunFinished
from runtime.live import LiveRuns
from runtime.testing.components import sample_registry
from runtime.testing.events import terminal_once, trace
from runtime.testing.specs import make_spec

REGISTRY = sample_registry()
WAIT_S = 10.0  # generous: the machine is shared


def two_branches(slow_s: float = 0.0) -> Any:
    """q -> a (echo "a:") -> a2 (echo "then:") -> out_a, and an independent q -> b (delay) -> out_b."""
    return make_spec(
        {"q": ("io.input", {}), "a": ("demo.echo", {"prefix": "a:"}), "a2": ("demo.echo", {"prefix": "then:"}),
         "out_a": ("io.output", {}), "b": ("demo.delay", {"seconds": slow_s}), "out_b": ("io.output", {})},
        [("q", "value", "a", "value"), ("a", "value", "a2", "value"), ("a2", "value", "out_a", "value"),
         ("q", "value", "b", "value"), ("b", "value", "out_b", "value")])


def chain(*ids: str) -> Any:
    nodes: dict[str, tuple] = {"q": ("io.input", {})}
    edges, previous = [], "q"
    for node_id in ids:
        nodes[node_id] = ("demo.echo", {"prefix": f"{node_id}:"})
        edges.append((previous, "value", node_id, "value"))
        previous = node_id
    nodes["out"] = ("io.output", {})
    edges.append((previous, "value", "out", "value"))
    return make_spec(nodes, edges)


class Driven:
    """A run consumed in a background task, its events collected as they happen."""

    def __init__(self, spec: Any, inputs: dict[str, Any], breakpoints: set[str], registry: Any = REGISTRY,
                 **kwargs: Any):
        self.debugger = Debugger(breakpoints)
        self.execution = execute(spec, inputs, registry=registry, debugger=self.debugger, **kwargs)
        self.events: list[Any] = []
        self.task = asyncio.create_task(self.execution.consume(self.events.append))

    async def until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not done():
            assert time.monotonic() < deadline, f"timed out waiting for {what}; events: {trace(self.events)}"
            await asyncio.sleep(0.002)

    async def paused_at(self, node_id: str) -> NodePaused:
        await self.until(lambda: node_id in self.debugger.paused, f"`{node_id}` to pause")
        return next(e for e in reversed(self.events) if isinstance(e, NodePaused) and e.node_id == node_id)

    async def finished(self) -> RunFinished:
        await asyncio.wait_for(self.task, WAIT_S)
        assert isinstance(self.events[-1], RunFinished)
        return self.events[-1]

    def kinds(self, node_id: str) -> list[str]:
        return [e.kind for e in self.events if getattr(e, "node_id", None) == node_id]


async def test_a_breakpoint_pauses_before_its_node_with_the_resolved_inputs_then_continues():
    run = Driven(chain("a", "b"), {"q": "x"}, {"b"})
    paused = await run.paused_at("b")
    assert (paused.inputs, paused.reason) == ({"value": "a:x"}, "breakpoint")
    assert run.kinds("b") == ["node_paused"]  # not started
    assert run.execution.status == "running" and run.debugger.paused["b"].inputs == {"value": "a:x"}
    assert run.debugger.resume("b") == {}
    end = await run.finished()
    assert (end.status, end.outputs) == ("succeeded", {"out": "b:a:x"})
    assert run.kinds("b") == ["node_paused", "node_resumed", "node_started", "node_finished"]
    resumed = next(e for e in run.events if isinstance(e, NodeResumed))
    assert (resumed.action, resumed.edited, resumed.original) == ("continue", {}, {})
    assert run.debugger.paused == {}
    terminal_once(run.events)


async def test_an_independent_branch_finishes_while_a_node_is_paused():
    run = Driven(two_branches(slow_s=0.05), {"q": "x"}, {"a"})
    await run.paused_at("a")
    await run.until(lambda: "node_finished" in run.kinds("out_b"), "the other branch to finish")
    assert run.kinds("a2") == [] and run.kinds("a") == ["node_paused"]
    run.debugger.resume("a")
    end = await run.finished()
    assert end.outputs == {"out_a": "then:a:x", "out_b": "x"}


async def test_a_paused_node_holds_no_concurrency_slot():
    run = Driven(two_branches(), {"q": "x"}, {"a"}, max_concurrency=1)
    await run.paused_at("a")
    await run.until(lambda: "node_finished" in run.kinds("out_b"), "the other branch to finish")
    run.debugger.resume("a")
    assert (await run.finished()).status == "succeeded"


async def test_an_edited_input_changes_the_downstream_output_and_the_event_says_so():
    run = Driven(two_branches(), {"q": "x"}, {"a"})
    await run.paused_at("a")
    assert run.debugger.resume("a", {"value": "edited"}) == {"value": "edited"}
    end = await run.finished()
    assert end.outputs == {"out_a": "then:a:edited", "out_b": "x"}
    resumed = next(e for e in run.events if isinstance(e, NodeResumed))
    assert (resumed.edited, resumed.original) == ({"value": "edited"}, {"value": "x"})
    started = next(e for e in run.events if isinstance(e, NodeStarted) and e.node_id == "a")
    assert started.inputs == {"value": "edited"}


async def test_giving_the_same_value_back_is_not_an_edit():
    run = Driven(chain("a"), {"q": "x"}, {"a"})
    await run.paused_at("a")
    assert run.debugger.resume("a", {"value": "x"}) == {}
    assert (await run.finished()).outputs == {"out": "a:x"}


async def test_a_bad_edit_is_refused_naming_node_port_and_type_and_the_node_stays_paused():
    run = Driven(chain("a"), {"q": "x"}, {"a"})
    await run.paused_at("a")
    with pytest.raises(InputEditError) as error:
        run.debugger.resume("a", {"value": 3, "nope": 1})
    assert str(error.value) == (
        "Node `a` (`demo.echo` v1): input `value` expects str, but the edit gives int 3; it has no input `nope` "
        "(its inputs: `value` (str)). Fix the value and continue again; the node stays paused until then.")
    with pytest.raises(InputEditError, match="must be a JSON object"):
        run.debugger.resume("a", ["x"])  # type: ignore[arg-type]
    await asyncio.sleep(0.02)
    assert "a" in run.debugger.paused and run.kinds("a") == ["node_paused"]
    run.debugger.resume("a", {"value": "fixed"})
    assert (await run.finished()).outputs == {"out": "a:fixed"}


async def test_list_edits_are_checked_item_by_item():
    spec = make_spec({"q": ("io.input", {}), "e": ("demo.echo", {"prefix": "e:"}), "c": ("demo.concat", {}),
                      "out": ("io.output", {})},
                     [("q", "value", "e", "value"), ("q", "value", "c", "values"), ("e", "value", "c", "values"),
                      ("c", "value", "out", "value")])
    run = Driven(spec, {"q": "x"}, {"c"})
    assert (await run.paused_at("c")).inputs == {"values": ["x", "e:x"]}
    with pytest.raises(InputEditError, match=r"input `values` expects list\[str\], but the edit gives list \[1, 2\]"):
        run.debugger.resume("c", {"values": [1, 2]})
    run.debugger.resume("c", {"values": ["a", "b", "c"]})
    assert (await run.finished()).outputs == {"out": "a|b|c"}


async def test_step_runs_the_node_then_pauses_at_the_nodes_it_makes_ready():
    run = Driven(chain("a", "b", "c", "d"), {"q": "x"}, {"a", "d"})
    await run.paused_at("a")
    run.debugger.step("a")
    paused = await run.paused_at("b")
    assert paused.reason == "step" and run.kinds("a")[-1] == "node_finished"
    assert run.kinds("c") == []
    run.debugger.step("b", {"value": "B"})
    await run.paused_at("c")
    run.debugger.resume("c")  # continue: on to the next breakpoint
    await run.paused_at("d")
    assert run.kinds("c")[-1] == "node_finished"
    run.debugger.resume("d")
    assert (await run.finished()).outputs == {"out": "d:c:b:B"}
    assert [e.node_id for e in run.events if isinstance(e, NodePaused)] == ["a", "b", "c", "d"]


async def test_stopping_a_paused_run_cancels_it_within_a_second():
    run = Driven(two_branches(slow_s=30), {"q": "x"}, {"a"})
    await run.paused_at("a")
    started = time.perf_counter()
    run.debugger.stop()
    end = await run.finished()
    elapsed = time.perf_counter() - started
    assert end.status == "cancelled" and elapsed < 1.0, elapsed
    cancelled = {e.node_id: e.reason for e in run.events if isinstance(e, NodeCancelled)}
    assert cancelled["a"] == "stopped at a breakpoint" and "b" in cancelled
    assert run.debugger.paused == {}
    assert all(task.done() for task in run.execution._tasks.values())
    terminal_once(run.events)


async def test_cancelling_the_execution_also_ends_a_pause():
    run = Driven(chain("a"), {"q": "x"}, {"a"})
    await run.paused_at("a")
    run.execution.cancel("stopped from the editor")
    assert (await run.finished()).status == "cancelled"
    with pytest.raises(NotPaused, match=r"Node `a` is not paused at a breakpoint \(paused now: none\)\."):
        run.debugger.resume("a")


async def test_breakpoints_can_change_during_a_run():
    run = Driven(chain("a", "b"), {"q": "x"}, {"a"})
    await run.paused_at("a")
    run.debugger.set_breakpoints({"b", "added-since"}, skip_unknown=True)
    assert run.debugger.breakpoints == {"b"}
    run.debugger.resume("a")
    await run.paused_at("b")
    run.debugger.set_breakpoints(set())
    run.debugger.resume("b")
    assert (await run.finished()).status == "succeeded"


async def test_a_pinned_node_does_not_pause():
    run = Driven(chain("a", "b"), {"q": "x"}, {"a"}, pinned={"a": {"value": "mock"}})
    assert (await run.finished()).outputs == {"out": "b:mock"}
    assert not any(isinstance(e, NodePaused) for e in run.events)


def test_a_breakpoint_on_a_node_the_pipeline_lacks_is_refused():
    with pytest.raises(ValueError) as error:
        execute(chain("a"), {"q": "x"}, registry=REGISTRY, debugger=Debugger({"zz"}))
    assert str(error.value) == ("Cannot set a breakpoint on `zz`: the pipeline has no such node. Its nodes: "
                                "`q`, `a`, `out`.")


async def test_a_debugger_without_breakpoints_changes_nothing():
    plain = [e.kind for e in [e async for e in execute(two_branches(), {"q": "x"}, registry=REGISTRY)]]
    debugged = Driven(two_branches(), {"q": "x"}, set())
    await debugged.finished()
    assert sorted(e.kind for e in debugged.events) == sorted(plain)
    assert debugged.debugger.stops == frozenset()


async def test_a_live_run_shows_the_paused_node_and_what_was_edited():
    live = LiveRuns().start(_compiled(two_branches()), {"q": "x"}, record=False, debugger=Debugger({"a"}))
    debugger = live.debugger
    deadline = time.monotonic() + WAIT_S
    while "a" not in debugger.paused:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.002)
    snapshot = live.snapshot()
    assert snapshot["paused"] == ["a"] and snapshot["nodes"]["a"]["status"] == "paused"
    assert snapshot["status"] == "running"
    debugger.resume("a", {"value": "y"})
    await asyncio.wait_for(live.task, WAIT_S)
    snapshot = live.snapshot()
    assert snapshot["paused"] == [] and snapshot["nodes"]["a"]["edited"] == ["value"]
    assert live.outputs == {"out_a": "then:a:y", "out_b": "x"}


async def test_inputs_edited_at_a_breakpoint_are_recorded_on_the_node_and_the_run(fresh_database):
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    debugger = Debugger({"a"})
    execution = execute(two_branches(), {"q": "x"}, registry=REGISTRY, debugger=debugger)
    recorder = RunRecorder(spec=execution.plan.spec, source="editor")
    task = asyncio.create_task(execution.consume(recorder))
    while "a" not in debugger.paused:
        await asyncio.sleep(0.002)
    debugger.resume("a", {"value": "edited"})
    await asyncio.wait_for(task, WAIT_S)
    RunRecorder.flush()
    run, nodes = get_run(execution.run_id)
    assert run.breakpoint_edits == ["a"]
    assert nodes["a"].edited_inputs == {"value": {"before": "x", "after": "edited"}}
    assert nodes["a"].inputs == {"value": "edited"} and nodes["a"].status == "succeeded"
    assert nodes["b"].edited_inputs is None


def _compiled(spec: Any) -> Any:
    from runtime import compile

    return compile(spec, REGISTRY)



async def test_a_secret_value_typed_at_a_breakpoint_is_masked_in_the_events_the_records_and_downstream(
        fresh_database, monkeypatch):
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    secret = "sk-canary-breakpoint-7f3e9a1b"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    debugger = Debugger({"a"})
    execution = execute(chain("a", "b"), {"q": "x"}, registry=REGISTRY, debugger=debugger)
    recorder = RunRecorder(spec=execution.plan.spec, source="editor")
    events: list[Any] = []
    task = asyncio.create_task(execution.consume(lambda event: (events.append(event), recorder(event))))
    while "a" not in debugger.paused:
        await asyncio.sleep(0.002)
    debugger.resume("a", {"value": f"key {secret}"})
    await asyncio.wait_for(task, WAIT_S)
    RunRecorder.flush()
    assert events[-1].outputs == {"out": "b:a:key ***"}
    assert not [e.kind for e in events if secret in repr(e)]
    run, nodes = get_run(execution.run_id)
    assert nodes["a"].inputs == {"value": "key ***"}
    assert nodes["a"].edited_inputs == {"value": {"before": "x", "after": "key ***"}}
    assert secret not in repr([(n.inputs, n.outputs, n.edited_inputs) for n in nodes.values()]) + repr(run)
