"""Controlling a run: cancelling, closing the stream, presets (run from here, pins), push consumers,
secret redaction and components that misbehave around cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import NodeCached, NodeFailed, NodeStarted, execute, run
from runtime.testing import components as samples
from runtime.testing.components import sample_registry
from runtime.testing.events import collect as collect_events
from runtime.testing.events import trace
from runtime.testing.specs import make_spec

REGISTRY = sample_registry()


async def collect(spec, inputs, **kwargs):
    return await collect_events(spec, inputs, registry=REGISTRY, **kwargs)



async def test_closing_the_stream_early_cancels_running_tasks():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 30}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("slow", "value", "out", "value")])
    execution = execute(spec, {"q": "x"}, registry=REGISTRY)
    async for event in execution:
        if isinstance(event, NodeStarted) and event.node_id == "slow":
            break
    await execution.aclose()
    assert all(task.done() for task in execution._tasks.values())


async def test_run_from_here_reuses_upstream_outputs_and_reruns_the_rest():
    samples.CALLS.clear()
    spec = make_spec({"q": ("io.input", {}), "count": ("demo.counter", {"key": "here"}, {"cache": False}),
                      "echo": ("demo.echo", {"prefix": "v2:"}), "out": ("io.output", {})},
                     [("q", "value", "count", "value"), ("count", "value", "echo", "value"),
                      ("echo", "value", "out", "value")])
    events = await collect(spec, {"q": "x"}, reuse={"q": {"value": "x"}, "count": {"value": "earlier"}})
    cached = {e.node_id: e.source for e in events if isinstance(e, NodeCached)}
    assert cached == {"q": "reused", "count": "reused"}
    assert samples.CALLS.get("here") is None  # the reused node did not run
    assert ("node_started", "echo") in trace(events)
    assert events[-1].outputs == {"out": "v2:earlier"}


async def test_pinned_outputs_replace_a_node_and_are_marked_as_pinned():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 30}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("slow", "value", "out", "value")])
    started = time.perf_counter()
    events = await collect(spec, {"q": "x"}, pinned={"slow": {"value": "mocked"}})
    assert time.perf_counter() - started < 1
    pinned = next(e for e in events if isinstance(e, NodeCached))
    assert (pinned.node_id, pinned.source) == ("slow", "pinned")
    assert events[-1].outputs == {"out": "mocked"}


async def test_presets_for_unknown_nodes_are_refused():
    spec = make_spec({"q": ("io.input", {}), "out": ("io.output", {})}, [("q", "value", "out", "value")])
    with pytest.raises(KeyError, match="cannot preset outputs of `nope`: the pipeline has no such node"):
        execute(spec, {"q": "x"}, registry=REGISTRY, pinned={"nope": {}})


async def test_cancel_before_the_first_event_cancels_every_node():
    spec = make_spec({"q": ("io.input", {}), "out": ("io.output", {})}, [("q", "value", "out", "value")])
    execution = execute(spec, {"q": "x"}, registry=REGISTRY)
    execution.cancel("changed my mind")
    events = [e async for e in execution]
    assert trace(events) == [("run_started", None), ("node_cancelled", "q"), ("node_cancelled", "out"),
                             ("run_finished", None)]
    assert events[-1].status == "cancelled" and events[1].reason == "changed my mind"


async def test_secret_values_from_the_environment_never_reach_error_messages(monkeypatch):
    monkeypatch.setenv("ACME_API_KEY", "sk-canary-1234567890")
    spec = make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "bad key sk-canary-1234567890"}),
                      "out": ("io.output", {})},
                     [("q", "value", "boom", "value"), ("boom", "value", "out", "value")])
    events = await collect(spec, {"q": "x"})
    failed = next(e for e in events if isinstance(e, NodeFailed))
    assert failed.error.message == "bad key ***"
    assert "sk-canary" not in failed.error.traceback and "sk-canary" not in events[-1].error.message


async def test_consume_pushes_every_event_to_each_consumer_in_order():
    spec = make_spec({"q": ("io.input", {}), "a": ("demo.echo", {}), "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("a", "value", "out", "value")])
    pushed, iterated = [], await collect(spec, {"q": "x"})
    second: list = []
    await execute(spec, {"q": "x"}, registry=REGISTRY).consume(pushed.append, second.append)
    assert trace(pushed) == trace(iterated) == trace(second)


async def test_a_failing_consumer_does_not_stop_the_run_and_its_error_is_raised_at_the_end():
    spec = make_spec({"q": ("io.input", {}), "out": ("io.output", {})}, [("q", "value", "out", "value")])
    seen: list = []

    def broken(event):
        raise RuntimeError("consumer bug")

    with pytest.raises(RuntimeError, match="consumer bug"):
        await execute(spec, {"q": "x"}, registry=REGISTRY).consume(broken, seen.append)
    assert seen[-1].status == "succeeded"


async def test_a_consumed_run_can_be_cancelled_and_cannot_be_iterated_too():
    spec = make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 30}), "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("slow", "value", "out", "value")])
    execution = execute(spec, {"q": "x"}, registry=REGISTRY)
    events: list = []
    task = asyncio.create_task(execution.consume(events.append))
    await asyncio.sleep(0.05)
    execution.cancel("enough")
    await asyncio.wait_for(task, 1)
    assert events[-1].status == "cancelled"
    with pytest.raises(RuntimeError, match="already started"):
        await execution.consume(events.append)


async def test_a_component_raising_cancelled_error_fails_instead_of_hanging_the_run():
    spec = make_spec({"q": ("io.input", {}), "c": ("demo.cancel_itself", {}), "out": ("io.output", {})},
                     [("q", "value", "c", "value"), ("c", "value", "out", "value")])
    result = await asyncio.wait_for(run(spec, {"q": "x"}, registry=REGISTRY), 2)
    assert result.status == "failed"
    assert result.nodes["c"].error == {"type": "RuntimeError",
                                       "message": "the component's work was cancelled from inside it"}
