"""Per-item overhead of `flow.map`, side by side with `flow.subflow` and the ideal wall time.

    .venv/bin/python bench/flow_overhead.py [--repeat 5]

- a 1,000-item map of a 2-node subflow (a 10 ms delay, then an echo) at concurrency 50: ideal 0.200 s
  (1,000 / 50 rounds of 10 ms); the same with 0 ms work: the per-item cost of the map itself;
- the cost of one `flow.subflow` node running the same subflow (200 of them fanned out, per node);
- memory: the peak traced allocation of a 0 ms map over 1,000 and over 10,000 items (flat = the same
  bytes per item: nothing is kept per item beyond the output lists).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc

from runtime import api
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

REGISTRY = flow_registry()


def subflow(seconds: float) -> dict:
    return sub_spec("work", {"doc": ("io.input", {}), "wait": ("demo.delay", {"seconds": seconds}),
                             "echo": ("demo.echo", {"prefix": "s:"}), "summary": ("io.output", {})},
                    [("doc.value", "wait.value"), ("wait.value", "echo.value"), ("echo.value", "summary.value")])


def map_plan(seconds: float, concurrency: int):
    main = sub_spec("bench-map", {"docs": ("io.input", {"type": "json"}),
                                  "m": ("flow.map", {"subflow": "work", "over": "doc", "concurrency": concurrency}),
                                  "out": ("io.output", {})}, [("docs.value", "m.items"), ("m.summary", "out.value")])
    return api.compile(with_subflows(main, work=subflow(seconds)), REGISTRY)


def subflow_nodes_plan(width: int):
    nodes: dict = {"q": ("io.input", {})}
    edges = []
    for i in range(width):
        nodes[f"s{i}"] = ("flow.subflow", {"subflow": "work"})
        nodes[f"o{i}"] = ("io.output", {})
        edges += [("q.value", f"s{i}.doc"), (f"s{i}.summary", f"o{i}.value")]
    return api.compile(with_subflows(sub_spec("bench-subflows", nodes, edges), work=subflow(0.0)), REGISTRY)


async def timed(plan, inputs) -> float:
    gc.collect()
    started = time.perf_counter()
    result = await api.run(plan, inputs)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded", result.error
    return elapsed


async def best(plan, inputs, repeat: int) -> float:
    await timed(plan, inputs)  # warm up
    return min([await timed(plan, inputs) for _ in range(repeat)])


async def memory_peak(items: int) -> int:
    plan, docs = map_plan(0.0, 50), [f"d{i}" for i in range(items)]
    await timed(plan, {"docs": docs[:10]})
    gc.collect()
    tracemalloc.start()
    await api.run(plan, {"docs": docs})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


async def main(repeat: int) -> None:
    docs = {"docs": [f"d{i}" for i in range(1000)]}
    slow = await best(map_plan(0.01, 50), docs, repeat)
    fast = await best(map_plan(0.0, 50), docs, repeat)
    width = 200
    nodes = await best(subflow_nodes_plan(width), {"q": "x"}, repeat)
    per_item, per_node = fast / 1000 * 1e6, nodes / width * 1e6
    print(f"map 1,000 items x 10 ms, concurrency 50: {slow:.3f} s (ideal 0.200 s, +{(slow / 0.2 - 1) * 100:.1f}%)")
    print(f"map 1,000 items x 0 ms, concurrency 50:  {fast:.3f} s = {per_item:.0f} µs per item")
    print(f"flow.subflow node, same subflow (x{width}): {per_node:.0f} µs per node "
          f"-> a map item costs {per_item / per_node:.2f}x a flow.subflow node")
    small, large = await memory_peak(1000), await memory_peak(10_000)
    print(f"peak memory: 1,000 items {small / 1e6:.1f} MB ({small / 1000:.0f} B/item), "
          f"10,000 items {large / 1e6:.1f} MB ({large / 10_000:.0f} B/item)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
