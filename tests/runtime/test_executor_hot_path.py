"""The executor's hot path: a node made ready by the one before runs on in the same task (no task and no
loop turn per node), yet the loop is never held for long and cancellation still reaches the right node."""

from __future__ import annotations

import asyncio
import time

from runtime import NodeCancelled, NodeStarted, execute, run
from runtime.executor import INLINE_RUN
from runtime.testing.components import sample_registry
from runtime.testing.specs import chain_spec, make_spec

REGISTRY = sample_registry()


async def test_a_chain_does_not_cost_a_task_per_node():
    execution = execute(chain_spec(200), {"query": "x"}, registry=REGISTRY)
    await execution.consume(lambda event: None)
    assert execution.status == "succeeded"
    tasks = set(execution._tasks.values())
    assert len(tasks) <= 202 // INLINE_RUN + 1


async def test_a_long_chain_of_nodes_that_never_wait_still_lets_other_tasks_run():
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    background = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    result = await run(chain_spec(640), {"query": "x"}, registry=REGISTRY)
    background.cancel()
    assert result.status == "succeeded"
    assert ticks - before >= 640 // INLINE_RUN - 1  # the loop turned at least once per INLINE_RUN nodes


async def test_cancelling_reaches_the_node_running_on_in_its_upstream_task():
    spec = make_spec({"q": ("io.input", {}), "a": ("demo.echo", {}), "slow": ("demo.delay", {"seconds": 30}),
                      "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("a", "value", "slow", "value"), ("slow", "value", "out", "value")])
    execution = execute(spec, {"q": "x"}, registry=REGISTRY)
    events = []
    started = time.perf_counter()
    async for event in execution:
        events.append(event)
        if isinstance(event, NodeStarted) and event.node_id == "slow":
            execution.cancel("stop")
    assert time.perf_counter() - started < 5
    assert execution._tasks[execution.plan.by_id["slow"]] is execution._tasks[execution.plan.by_id["q"]]
    cancelled = {e.node_id: e.started for e in events if isinstance(e, NodeCancelled)}
    assert cancelled == {"slow": True, "out": False}
    assert events[-1].status == "cancelled"
    await execution.aclose()
    assert all(task.done() for task in execution._tasks.values())


async def test_siblings_made_ready_together_still_run_at_the_same_time():
    nodes = {"q": ("io.input", {})} | {f"d{i}": ("demo.delay", {"seconds": 0.2}) for i in range(4)}
    edges = [("q", "value", f"d{i}", "value") for i in range(4)]
    nodes |= {f"e{i}": ("demo.echo", {}) for i in range(4)} | {"out": ("io.output", {})}
    edges += [(f"d{i}", "value", f"e{i}", "value") for i in range(4)] + [("e0", "value", "out", "value")]
    started = time.perf_counter()
    result = await run(make_spec(nodes, edges), {"q": "x"}, registry=REGISTRY)
    assert time.perf_counter() - started < 0.2 * 3  # one after another would take 0.8 s
    assert result.status == "succeeded"
    assert {n.status for n in result.nodes.values()} == {"succeeded"}
