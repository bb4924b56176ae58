"""Runtime overhead, side by side in one process: hand-written asyncio, a minimal
one-task-per-node scheduler, and `runtime.run`, on the same components.

    .venv/bin/python bench/runtime_overhead.py [--repeat 7]

Shapes: a 200-node and a 2,000-node chain of no-op nodes (per-node cost), a 50-way fan-out
of 50 ms nodes (ideal 0.050 s) and the skew shape (a 100 ms branch beside two 50 ms nodes
in a row; ideal 0.100 s: a scheduler that waits for whole rounds takes 0.150 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from runtime import RunContext, compile, run
from runtime.testing.components import Delay, DelayParams, Echo, EchoParams, TextValue, sample_registry
from runtime.testing.specs import chain_spec, fan_out_spec, make_spec

REGISTRY = sample_registry()
ECHO = Echo(EchoParams())


def _ctx(node_id: str) -> RunContext:
    return RunContext(run_id="bench", node_id=node_id, component_id="demo.echo")


# --- hand-written asyncio: the same component calls, no scheduler -----------------------------
async def hand_chain(n: int) -> str:
    value = TextValue(value="x")
    for i in range(n):
        value = await ECHO.run(value, _ctx(f"n{i}"))
    return value.value


async def hand_fan_out(width: int, seconds: float) -> str:
    delay = Delay(DelayParams(seconds=seconds))
    outs = await asyncio.gather(*(delay.run(TextValue(value="x"), _ctx(f"d{i}")) for i in range(width)))
    return "|".join(o.value for o in outs)


async def hand_skew() -> str:
    slow, fast = Delay(DelayParams(seconds=0.1)), Delay(DelayParams(seconds=0.05))

    async def fast_branch() -> TextValue:
        first = await fast.run(TextValue(value="x"), _ctx("b1"))
        return await fast.run(first, _ctx("b2"))

    a, b = await asyncio.gather(slow.run(TextValue(value="x"), _ctx("a")), fast_branch())
    return a.value + b.value


# --- a minimal one-task-per-node scheduler (the ~20-line baseline) ----------------------------
async def minimal_scheduler(nodes: dict[str, tuple[Callable[..., Awaitable[Any]], list[str]]]) -> dict[str, Any]:
    """Each node is a task that awaits its dependencies' tasks, then runs."""
    tasks: dict[str, asyncio.Task[Any]] = {}

    async def run_node(fn: Callable[..., Awaitable[Any]], deps: list[str]) -> Any:
        args = [await tasks[d] for d in deps]
        return await fn(*args)

    for node_id, (fn, deps) in nodes.items():  # insertion order is topological here
        tasks[node_id] = asyncio.create_task(run_node(fn, deps))
    await asyncio.gather(*tasks.values())
    return {k: t.result() for k, t in tasks.items()}


def _echo_node(node_id: str) -> Callable[[TextValue], Awaitable[TextValue]]:
    return lambda value: ECHO.run(value, _ctx(node_id))


async def minimal_chain(n: int) -> str:
    async def source() -> TextValue:
        return TextValue(value="x")

    nodes: dict[str, Any] = {"q": (source, [])}
    previous = "q"
    for i in range(n):
        nodes[f"n{i}"] = (_echo_node(f"n{i}"), [previous])
        previous = f"n{i}"
    return (await minimal_scheduler(nodes))[previous].value


async def minimal_fan_out(width: int, seconds: float) -> str:
    delay = Delay(DelayParams(seconds=seconds))

    async def source() -> TextValue:
        return TextValue(value="x")

    async def join(*values: TextValue) -> str:
        return "|".join(v.value for v in values)

    nodes: dict[str, Any] = {"q": (source, [])}
    for i in range(width):
        nodes[f"d{i}"] = ((lambda v, i=i: delay.run(v, _ctx(f"d{i}"))), ["q"])
    nodes["join"] = (join, [f"d{i}" for i in range(width)])
    return (await minimal_scheduler(nodes))["join"]


async def minimal_skew() -> str:
    slow, fast = Delay(DelayParams(seconds=0.1)), Delay(DelayParams(seconds=0.05))

    async def source() -> TextValue:
        return TextValue(value="x")

    async def join(a: TextValue, b: TextValue) -> str:
        return a.value + b.value

    nodes: dict[str, Any] = {
        "q": (source, []), "a": (lambda v: slow.run(v, _ctx("a")), ["q"]),
        "b1": (lambda v: fast.run(v, _ctx("b1")), ["q"]), "b2": (lambda v: fast.run(v, _ctx("b2")), ["b1"]),
        "join": (join, ["a", "b2"]),
    }
    return (await minimal_scheduler(nodes))["join"]


# --- Patchwire ---------------------------------------------------------------------------------
def skew_spec():
    return make_spec({"q": ("io.input", {}), "a": ("demo.delay", {"seconds": 0.1}),
                      "b1": ("demo.delay", {"seconds": 0.05}), "b2": ("demo.delay", {"seconds": 0.05}),
                      "join": ("demo.join", {}), "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("q", "value", "b1", "value"), ("b1", "value", "b2", "value"),
                      ("a", "value", "join", "a"), ("b2", "value", "join", "b"), ("join", "value", "out", "value")],
                     name="skew")


async def patchwire(plan: Any) -> Any:
    result = await run(plan, {"query": "x"} if "query" in plan.inputs else {"q": "x"})
    assert result.status == "succeeded", result.error
    return result.outputs


async def timed(make: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await make()
        times.append(time.perf_counter() - started)
    return min(times)


async def main(repeat: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for n in (200, 2000):
        plan = compile(chain_spec(n), REGISTRY)
        hand, minimal, ours = 0.0, 0.0, 0.0
        # Interleave the engines so machine noise hits all three alike.
        samples: dict[str, list[float]] = {"hand": [], "minimal": [], "patchwire": []}
        for _ in range(repeat):
            samples["hand"].append(await timed(lambda n=n: hand_chain(n), 1))
            samples["minimal"].append(await timed(lambda n=n: minimal_chain(n), 1))
            samples["patchwire"].append(await timed(lambda plan=plan: patchwire(plan), 1))
        hand, minimal, ours = (statistics.median(samples[k]) / n * 1e6 for k in ("hand", "minimal", "patchwire"))
        rows[f"chain-{n}"] = {"hand_us": hand, "minimal_us": minimal, "patchwire_us": ours}
    for name, hand_fn, minimal_fn, plan in (
        ("fan-out-50x50ms", lambda: hand_fan_out(50, 0.05), lambda: minimal_fan_out(50, 0.05),
         compile(fan_out_spec(50, 0.05), REGISTRY)),
        ("skew", hand_skew, minimal_skew, compile(skew_spec(), REGISTRY)),
    ):
        rows[name] = {"hand_s": await timed(hand_fn, repeat), "minimal_s": await timed(minimal_fn, repeat),
                      "patchwire_s": await timed(lambda plan=plan: patchwire(plan), repeat)}
    return rows


def report(rows: dict[str, Any]) -> str:
    lines = ["| shape | hand-written asyncio | minimal scheduler | Patchwire | Patchwire ÷ minimal |",
             "|---|---|---|---|---|"]
    for name in ("chain-200", "chain-2000"):
        r = rows[name]
        lines.append(f"| {name}, cost per node | {r['hand_us']:.1f} µs | {r['minimal_us']:.1f} µs | "
                     f"{r['patchwire_us']:.1f} µs | {r['patchwire_us'] / r['minimal_us']:.2f}× |")
    for name in ("fan-out-50x50ms", "skew"):
        r = rows[name]
        lines.append(f"| {name}, wall | {r['hand_s']:.4f} s | {r['minimal_s']:.4f} s | {r['patchwire_s']:.4f} s | "
                     f"{r['patchwire_s'] / r['hand_s']:.3f}× of hand-written |")
    c200, c2000 = rows["chain-200"], rows["chain-2000"]
    over200 = c200["patchwire_us"] - c200["hand_us"]
    over_min = c200["minimal_us"] - c200["hand_us"]
    lines += ["",
              f"Scheduling overhead per node (cost minus the hand-written cost of the same component call): "
              f"Patchwire {over200:.1f} µs, minimal scheduler {over_min:.1f} µs "
              f"({over200 / over_min:.2f}×).",
              f"Linearity: Patchwire cost per node at 2,000 nodes is {c2000['patchwire_us'] / c200['patchwire_us']:.2f}× "
              "its cost at 200."]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(report(asyncio.run(main(args.repeat))))
