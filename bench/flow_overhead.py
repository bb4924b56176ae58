"""Per-item overhead of `flow.map`, side by side in one process with a lean `asyncio` map and `flow.subflow`.

    .venv/bin/python bench/flow_overhead.py [--repeat 7]

- a 1,000-item map of a 2-node subflow (a 10 ms delay, then an echo) at concurrency 50, run the way users
  call it (`runtime.run(spec)`), beside the same component calls in a lean hand-written map (a semaphore of
  50 and `asyncio.gather`, what `export-python` writes). Ideal 0.200 s (1,000 / 50 rounds of 10 ms); the
  lean map shows what the event loop itself adds (an `asyncio.sleep` wakes up to ~1 ms late on epoll);
- the same with 0 ms work: the per-item cost of each (CPU time per item);
- the cost of one `flow.subflow` node running the same subflow (200 of them fanned out, per node);
- memory: the peak traced allocation of a 0 ms map over 1,000 and over 10,000 items, and that peak less the
  output list itself (flat = the same few bytes per item: nothing kept per item beyond the outputs).

Runs are interleaved (lean, map, lean, map, ...) so the machine's load hits both alike; best and median.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc

from runtime import api
from runtime.context import RunContext
from runtime.testing.components import Delay, DelayParams, Echo, EchoParams, TextValue
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

REGISTRY = flow_registry()
ITEMS, CONCURRENCY = 1000, 50


def subflow(seconds: float) -> dict:
    return sub_spec("work", {"doc": ("io.input", {}), "wait": ("demo.delay", {"seconds": seconds}),
                             "echo": ("demo.echo", {"prefix": "s:"}), "summary": ("io.output", {})},
                    [("doc.value", "wait.value"), ("wait.value", "echo.value"), ("echo.value", "summary.value")])


def map_spec(seconds: float, concurrency: int):
    main = sub_spec("bench-map", {"docs": ("io.input", {"type": "json"}),
                                  "m": ("flow.map", {"subflow": "work", "over": "doc", "concurrency": concurrency}),
                                  "out": ("io.output", {})}, [("docs.value", "m.items"), ("m.summary", "out.value")])
    return with_subflows(main, work=subflow(seconds))


def map_plan(seconds: float, concurrency: int):
    return api.compile(map_spec(seconds, concurrency), REGISTRY)


def subflow_nodes_spec(width: int):
    nodes: dict = {"q": ("io.input", {})}
    edges = []
    for i in range(width):
        nodes[f"s{i}"] = ("flow.subflow", {"subflow": "work"})
        nodes[f"o{i}"] = ("io.output", {})
        edges += [("q.value", f"s{i}.doc"), (f"s{i}.summary", f"o{i}.value")]
    return with_subflows(sub_spec("bench-subflows", nodes, edges), work=subflow(0.0))


async def lean_map(docs: list[str], seconds: float, concurrency: int) -> list[str]:
    """The same component calls per item as the map's subflow, hand-written: a semaphore and a gather."""
    wait, echo, limit = Delay(DelayParams(seconds=seconds)), Echo(EchoParams(prefix="s:")), asyncio.Semaphore(concurrency)

    async def one(index: int, doc: str) -> str:
        async with limit:
            ctx = RunContext(run_id="lean", node_id=f"m/{index}", component_id="demo.delay")
            return (await echo.run(await wait.run(TextValue(value=doc), ctx), ctx)).value

    return list(await asyncio.gather(*(one(i, d) for i, d in enumerate(docs))))


async def timed(call) -> float:
    gc.collect()
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def side_by_side(calls: dict[str, object], repeat: int) -> dict[str, list[float]]:
    for call in calls.values():  # warm up (imports, the plan cache)
        await call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            times[name].append(await timed(call))
    return times


def run_spec(spec, inputs):
    async def call() -> None:
        result = await api.run(spec, inputs, registry=REGISTRY)
        assert result.status == "succeeded", result.error
    return call


async def memory(items: int) -> tuple[int, int]:
    """Peak traced bytes of a 0 ms map over `items`, and the size of its output list."""
    spec, docs = map_spec(0.0, CONCURRENCY), [f"d{i}" for i in range(items)]
    await api.run(spec, {"docs": docs[:10]}, registry=REGISTRY)
    gc.collect()
    tracemalloc.start()
    result = await api.run(spec, {"docs": docs}, registry=REGISTRY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = result.outputs["out"]
    return peak, sys.getsizeof(out) + sum(sys.getsizeof(v) for v in out)


def line(label: str, values: list[float], ideal: float | None = None) -> str:
    best, median = min(values), statistics.median(values)
    tail = f" (ideal {ideal:.3f} s: best +{(best / ideal - 1) * 100:.1f}%)" if ideal else ""
    return f"  {label:<34} best {best:.3f} s, median {median:.3f} s{tail}"


async def main(repeat: int) -> None:
    docs = [f"d{i}" for i in range(ITEMS)]
    print(f"{ITEMS:,} items, concurrency {CONCURRENCY}, a 2-node subflow (delay, echo):")
    for seconds in (0.01, 0.0):
        spec = map_spec(seconds, CONCURRENCY)
        times = await side_by_side({"lean": lambda s=seconds: lean_map(docs, s, CONCURRENCY),
                                    "map": run_spec(spec, {"docs": docs})}, repeat)
        ideal = ITEMS / CONCURRENCY * seconds or None
        print(f" {seconds * 1000:.0f} ms of work per item:")
        print(line("lean asyncio (semaphore + gather)", times["lean"], ideal))
        print(line("flow.map via run(spec)", times["map"], ideal))
        ratio = min(times["map"]) / min(times["lean"])
        per_item = (min(times["map"]) - (ideal or 0)) / ITEMS * 1e6
        print(f"  -> map / lean {ratio:.3f}" + ("" if ideal else f"; {per_item:.0f} µs per item, lean "
                                                 f"{min(times['lean']) / ITEMS * 1e6:.0f} µs"))
        if not ideal:
            map_item = per_item
    width = 200
    nodes = await side_by_side({"subflow": run_spec(subflow_nodes_spec(width), {"q": "x"})}, repeat)
    per_node = min(nodes["subflow"]) / width * 1e6
    print(f" flow.subflow node, same subflow (x{width} in one run): {per_node:.0f} µs per node "
          f"-> a map item costs {map_item / per_node:.2f}x a flow.subflow node (target ≤ 3x)")
    for items in (1000, 10_000):
        peak, outputs = await memory(items)
        print(f" peak memory, {items:>6,} items: {peak / 1e6:.2f} MB; less the output list "
              f"({outputs / 1e6:.2f} MB): {(peak - outputs) / 1e6:.2f} MB = {(peak - outputs) / items:.0f} B/item")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(main(parser.parse_args().repeat))
