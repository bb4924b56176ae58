"""Runtime overhead, side by side in one process: hand-written asyncio, the leanest one-task-per-node
scheduler, a minimal one, `runtime.run` on a compiled plan and `runtime.run(spec)`, on the same components.

    .venv/bin/python bench/runtime_overhead.py [--repeat 7]

Shapes: a 200-node and a 2,000-node chain of no-op nodes (per-node CPU time), a 50-way fan-out
of 50 ms nodes (ideal 0.050 s) and the skew shape (a 100 ms branch beside two 50 ms nodes
in a row; ideal 0.100 s: a scheduler that waits for whole rounds takes 0.150 s). Then the cost of
validating and compiling a spec (what `run(spec)` skips when the same content comes again).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from runtime import RunContext, compile, run
from runtime.spec import PipelineSpec
from runtime.testing.components import Delay, DelayParams, Echo, EchoParams, TextValue, sample_registry
from runtime.testing.specs import chain_spec, fan_out_spec, make_spec

REGISTRY = sample_registry()
ECHO = Echo(EchoParams())


SHARED_CTX = RunContext(run_id="bench", node_id="lean", component_id="demo.echo")


def _ctx(node_id: str) -> RunContext:
    return RunContext(run_id="bench", node_id=node_id, component_id="demo.echo")


async def _source() -> TextValue:
    return TextValue(value="x")


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


# --- the leanest scheduler: one task per node awaiting its predecessors' tasks, one shared context -----
async def _after(fn: Callable[[TextValue], Awaitable[TextValue]], previous: asyncio.Task[TextValue]) -> TextValue:
    return await fn(await previous)


async def lean_chain(n: int) -> str:
    def echo(value: TextValue) -> Awaitable[TextValue]:
        return ECHO.run(value, SHARED_CTX)

    task = asyncio.create_task(_source())
    for _ in range(n):
        task = asyncio.create_task(_after(echo, task))
    return (await task).value


async def lean_fan_out(width: int, seconds: float) -> str:
    delay = Delay(DelayParams(seconds=seconds))

    def wait(value: TextValue) -> Awaitable[TextValue]:
        return delay.run(value, SHARED_CTX)

    source = asyncio.create_task(_source())
    branches = [asyncio.create_task(_after(wait, source)) for _ in range(width)]
    return "|".join([(await branch).value for branch in branches])


async def lean_skew() -> str:
    slow, fast = Delay(DelayParams(seconds=0.1)), Delay(DelayParams(seconds=0.05))

    def slow_run(value: TextValue) -> Awaitable[TextValue]:
        return slow.run(value, SHARED_CTX)

    def fast_run(value: TextValue) -> Awaitable[TextValue]:
        return fast.run(value, SHARED_CTX)

    source = asyncio.create_task(_source())
    a = asyncio.create_task(_after(slow_run, source))
    b2 = asyncio.create_task(_after(fast_run, asyncio.create_task(_after(fast_run, source))))
    return (await a).value + (await b2).value


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


async def patchwire_spec(spec: PipelineSpec) -> Any:
    """`run(spec)` as users call it: the spec, not a plan; its compiled plan is reused from the second call."""
    result = await run(spec, {"query": "x"} if spec.node("query") else {"q": "x"}, registry=REGISTRY)
    assert result.status == "succeeded", result.error
    return result.outputs


async def timed(make: Callable[[], Awaitable[Any]], repeat: int,
                clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time of `repeat` runs on `clock` (wall time unless told), in seconds."""
    times = []
    for _ in range(repeat):
        started = clock()
        await make()
        times.append(clock() - started)
    return min(times)


ENGINES = ("hand", "lean", "minimal", "patchwire", "spec")


async def chain_row(n: int, repeat: int) -> dict[str, float]:
    """Median CPU time per node (µs) of each engine on an n-node chain, the engines interleaved.

    CPU time, not wall time: the chains never wait, and on a shared machine wall time mostly measures
    the other processes."""
    spec = chain_spec(n)
    plan = compile(spec, REGISTRY)
    await patchwire_spec(spec)  # warm: the plan cache now holds this content
    makers: dict[str, Callable[[], Awaitable[Any]]] = {
        "hand": lambda: hand_chain(n), "lean": lambda: lean_chain(n), "minimal": lambda: minimal_chain(n),
        "patchwire": lambda: patchwire(plan), "spec": lambda: patchwire_spec(spec)}
    samples: dict[str, list[float]] = {k: [] for k in ENGINES}
    for _ in range(repeat):  # interleaved, so machine noise hits all engines alike
        gc.collect()  # each round starts from the same collector state, not the last round's garbage
        for name in ENGINES:
            samples[name].append(await timed(makers[name], 1, time.process_time))
    return {f"{k}_us": statistics.median(samples[k]) / n * 1e6 for k in ENGINES}


def compile_costs(repeat: int) -> dict[int, float]:
    """Median CPU time per node (µs) of validating and compiling an n-node chain."""
    specs = {n: chain_spec(n) for n in (200, 2000, 5000)}
    samples: dict[int, list[float]] = {n: [] for n in specs}
    for _ in range(repeat):
        for n, spec in specs.items():
            gc.collect()
            started = time.process_time()
            compile(spec, REGISTRY)
            samples[n].append((time.process_time() - started) / n * 1e6)
    return {n: statistics.median(s) for n, s in samples.items()}


async def main(repeat: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for n in (200, 2000):
        rows[f"chain-{n}"] = await chain_row(n, repeat)
    for name, hand_fn, lean_fn, minimal_fn, spec in (
        ("fan-out-50x50ms", lambda: hand_fan_out(50, 0.05), lambda: lean_fan_out(50, 0.05),
         lambda: minimal_fan_out(50, 0.05), fan_out_spec(50, 0.05)),
        ("skew", hand_skew, lean_skew, minimal_skew, skew_spec()),
    ):
        plan = compile(spec, REGISTRY)
        rows[name] = {"hand_s": await timed(hand_fn, repeat), "lean_s": await timed(lean_fn, repeat),
                      "minimal_s": await timed(minimal_fn, repeat),
                      "patchwire_s": await timed(lambda plan=plan: patchwire(plan), repeat),
                      "spec_s": await timed(lambda spec=spec: patchwire_spec(spec), repeat)}
    rows["compile"] = compile_costs(repeat)
    return rows


def report(rows: dict[str, Any]) -> str:
    lines = ["| shape | hand-written asyncio | lean scheduler | minimal scheduler | Patchwire | Patchwire ÷ minimal "
             "| Patchwire `run(spec)` | `run(spec)` ÷ lean |",
             "|---|---|---|---|---|---|---|---|"]
    for name in ("chain-200", "chain-2000"):
        r = rows[name]
        lines.append(f"| {name}, cost per node | {r['hand_us']:.1f} µs | {r['lean_us']:.1f} µs | "
                     f"{r['minimal_us']:.1f} µs | {r['patchwire_us']:.1f} µs | "
                     f"{r['patchwire_us'] / r['minimal_us']:.2f}× | {r['spec_us']:.1f} µs | "
                     f"{r['spec_us'] / r['lean_us']:.2f}× |")
    for name in ("fan-out-50x50ms", "skew"):
        r = rows[name]
        lines.append(f"| {name}, wall | {r['hand_s']:.4f} s | {r['lean_s']:.4f} s | {r['minimal_s']:.4f} s | "
                     f"{r['patchwire_s']:.4f} s | {r['patchwire_s'] / r['hand_s']:.3f}× of hand-written | "
                     f"{r['spec_s']:.4f} s | {r['spec_s'] / r['hand_s']:.3f}× of hand-written |")
    c200, c2000, comp = rows["chain-200"], rows["chain-2000"], rows["compile"]
    over200 = c200["patchwire_us"] - c200["hand_us"]
    over_min = c200["minimal_us"] - c200["hand_us"]
    lines += ["",
              f"Scheduling overhead per node (cost minus the hand-written cost of the same component call): "
              f"Patchwire {over200:.1f} µs, minimal scheduler {over_min:.1f} µs "
              f"({over200 / over_min:.2f}×), lean scheduler {c200['lean_us'] - c200['hand_us']:.1f} µs.",
              f"Linearity: Patchwire cost per node at 2,000 nodes is {c2000['patchwire_us'] / c200['patchwire_us']:.2f}× "
              "its cost at 200.",
              f"Validation + compilation per node (what a warm `run(spec)` skips): {comp[200]:.1f} µs at 200 nodes, "
              f"{comp[2000]:.1f} µs at 2,000 ({comp[2000] / comp[200]:.2f}×), {comp[5000]:.1f} µs at 5,000 "
              f"({comp[5000] / comp[200]:.2f}×)."]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(report(asyncio.run(main(args.repeat))))
