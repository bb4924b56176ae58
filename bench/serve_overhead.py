"""`patchwire serve` against a hand-written FastAPI endpoint, side by side, same pipeline, same load.

    .venv/bin/python bench/serve_overhead.py [--concurrency 4,16] [--seconds 3] [--rounds 5] [--model-ms 10]

The pipeline: input -> a prompt step (demo.echo) -> a mocked model (demo.delay, `--model-ms`) beside a
second echo -> a fan-in concat -> output. The baseline is a FastAPI endpoint calling the same component
classes directly (asyncio.gather for the parallel pair) and returning the outputs. Both run as uvicorn
subprocesses on 127.0.0.1 with access logs off; one loopback httpx client keeps `--concurrency` requests
in flight. Rounds alternate between the two servers; the table shows each one's median round, and the
CPU time each server process spent per request (from /proc: it does not depend on what else runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))


def pipeline_spec(model_s: float) -> Any:
    from runtime.testing.specs import make_spec

    return make_spec({"q": ("io.input", {"name": "query"}), "prompt": ("demo.echo", {"prefix": "Q: "}),
                      "model": ("demo.delay", {"seconds": model_s}), "side": ("demo.echo", {"prefix": "side: "}),
                      "join": ("demo.concat", {}), "out": ("io.output", {})},
                     [("q", "value", "prompt", "value"), ("prompt", "value", "model", "value"),
                      ("prompt", "value", "side", "value"), ("model", "value", "join", "values"),
                      ("side", "value", "join", "values"), ("join", "value", "out", "value")], name="bench")


class Body(BaseModel):
    inputs: dict[str, str]


def baseline_app(model_s: float) -> Any:
    """The hand-written endpoint: the same components, called directly."""
    from fastapi import FastAPI

    from runtime import RunContext
    from runtime.component import NoParams
    from runtime.testing.components import (
        Concat,
        ConcatInputs,
        Delay,
        DelayParams,
        Echo,
        EchoParams,
        TextValue,
    )

    prompt, model = Echo(EchoParams(prefix="Q: ")), Delay(DelayParams(seconds=model_s))
    side, join = Echo(EchoParams(prefix="side: ")), Concat(NoParams())

    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                             "auto_configure": False})  # as `patchwire serve` configures it

    @app.post("/v1/pipelines/bench/run")
    async def run(body: Body) -> dict[str, Any]:
        ctx = RunContext(run_id="bench", node_id="n", component_id="demo")
        asked = await prompt.run(TextValue(value=body.inputs["query"]), ctx)
        answer, aside = await asyncio.gather(model.run(asked, ctx), side.run(asked, ctx))
        joined = await join.run(ConcatInputs(values=[answer.value, aside.value]), ctx)
        return {"status": "succeeded", "outputs": {"out": joined.value}}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {' '.join(command)}\n{proc.stderr.read()}") from None
            time.sleep(0.1)


async def load(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    """Keep `concurrency` requests in flight for `seconds`; every answer is checked."""
    import httpx

    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker(w: int) -> None:
            i = 0
            while time.perf_counter() < stop:
                query = f"w{w}-{i}"
                t0 = time.perf_counter()
                response = await client.post(url, json={"inputs": {"query": query}})
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text
                assert response.json()["outputs"]["out"] == f"Q: {query}|side: Q: {query}"
                i += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000, "n": len(latencies)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): load-independent cost per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, pid: int, concurrency: int, seconds: float) -> dict[str, float]:
    cpu0 = cpu_seconds(pid)
    result = asyncio.run(load(url, concurrency, seconds))
    result["cpu_us"] = (cpu_seconds(pid) - cpu0) / result["n"] * 1e6
    return result


KEYS = ("rps", "p50", "p95", "cpu_us")
BASE, OURS = "hand-written FastAPI", "patchwire serve"


def table(results: dict[int, dict[str, list[dict[str, float]]]], args: argparse.Namespace) -> str:
    lines = [f"Pipeline: echo -> mocked model ({args.model_ms:g} ms) beside an echo -> fan-in concat. One loopback "
             f"httpx client, {args.rounds} alternating rounds of {args.seconds:g} s per server, median round; "
             f"{os.cpu_count()} CPUs shared by client and servers.", "",
             "| concurrent requests | server | requests/s | p50 (ms) | p95 (ms) | server CPU per request (µs) |",
             "|---:|---|---:|---:|---:|---:|"]
    for concurrency, by_server in results.items():
        med = {name: {k: statistics.median(r[k] for r in rounds) for k in KEYS} for name, rounds in by_server.items()}
        for name, row in med.items():
            lines.append(f"| {concurrency} | {name} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p95']:.1f} | "
                         f"{row['cpu_us']:.0f} |")
        base, ours = med[BASE], med[OURS]
        lines.append(f"| {concurrency} | **overhead** | {100 * (1 - ours['rps'] / base['rps']):+.1f}% | "
                     f"{100 * (ours['p50'] / base['p50'] - 1):+.1f}% | {100 * (ours['p95'] / base['p95'] - 1):+.1f}% | "
                     f"{ours['cpu_us'] - base['cpu_us']:+.0f} µs |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="4,16", help="comma-separated levels (default 4,16)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model-ms", type=float, default=10.0)
    parser.add_argument("--baseline-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        import uvicorn

        uvicorn.run(baseline_app(args.model_ms / 1000), host="127.0.0.1", port=args.baseline_server,
                    access_log=False, log_level="warning")
        return
    print(table(run_all(args), args))


def run_all(args: argparse.Namespace) -> dict[int, dict[str, list[dict[str, float]]]]:
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        spec_file = Path(folder) / "bench.json"
        spec_file.write_text(json.dumps(pipeline_spec(args.model_ms / 1000).model_dump(mode="json")))
        ports = {BASE: free_port(), OURS: free_port()}
        commands = {
            BASE: [sys.executable, __file__, "--baseline-server", str(ports[BASE]), "--model-ms", str(args.model_ms)],
            OURS: [PATCHWIRE, "serve", str(spec_file), "--port", str(ports[OURS]), "--no-access-log", "--no-record",
                   "--plugin", "runtime.testing.components"],
        }
        servers = {name: start(command, ports[name]) for name, command in commands.items()}
        urls = {name: f"http://127.0.0.1:{port}/v1/pipelines/bench/run" for name, port in ports.items()}
        try:
            for name in commands:  # warm up both
                asyncio.run(load(urls[name], max(levels), 1.0))
            results = {c: {name: [] for name in commands} for c in levels}
            for concurrency in levels:
                for _ in range(args.rounds):
                    for name in commands:
                        results[concurrency][name].append(
                            measure(urls[name], servers[name].pid, concurrency, args.seconds))
        finally:
            for proc in servers.values():  # each server stopped by its own handle
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=10)
    return results


if __name__ == "__main__":
    main()
