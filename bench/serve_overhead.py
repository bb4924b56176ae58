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
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import Request, free_port, load, measure, medians, start_server, table_rows  # noqa: E402

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
RUN = "/v1/pipelines/bench/run"


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

    @app.post(RUN)
    async def run(body: Body) -> dict[str, Any]:
        ctx = RunContext(run_id="bench", node_id="n", component_id="demo")
        asked = await prompt.run(TextValue(value=body.inputs["query"]), ctx)
        answer, aside = await asyncio.gather(model.run(asked, ctx), side.run(asked, ctx))
        joined = await join.run(ConcatInputs(values=[answer.value, aside.value]), ctx)
        return {"status": "succeeded", "outputs": {"out": joined.value}}

    return app


def answer_check(query: str) -> Any:
    def check(response: Any) -> None:
        assert response.status_code == 200, response.text
        assert response.json()["outputs"]["out"] == f"Q: {query}|side: Q: {query}"

    return check


def run_request(worker: int, i: int) -> Request:
    query = f"w{worker}-{i}"
    return RUN, {"inputs": {"query": query}}, answer_check(query)


BASE, OURS = "hand-written FastAPI", "patchwire serve"


def table(results: dict[int, dict[str, list[dict[str, float]]]], args: argparse.Namespace) -> str:
    lines = [f"Pipeline: echo -> mocked model ({args.model_ms:g} ms) beside an echo -> fan-in concat. One loopback "
             f"httpx client, {args.rounds} alternating rounds of {args.seconds:g} s per server, median round; "
             f"{os.cpu_count()} CPUs shared by client and servers.", "",
             "| concurrent requests | server | requests/s | p50 (ms) | p95 (ms) | server CPU per request (µs) |",
             "|---:|---|---:|---:|---:|---:|"]
    for concurrency, by_server in results.items():
        lines += table_rows(concurrency, medians(by_server), BASE, OURS)
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
        servers = {name: start_server(command, f"http://127.0.0.1:{ports[name]}/docs")
                   for name, command in commands.items()}
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        try:
            for name in commands:  # warm up both
                load(bases[name], max(levels), 1.0, run_request)
            results = {c: {name: [] for name in commands} for c in levels}
            for concurrency in levels:
                for _ in range(args.rounds):
                    for name in commands:
                        results[concurrency][name].append(
                            measure(bases[name], servers[name].pid, concurrency, args.seconds, run_request))
        finally:
            for proc in servers.values():  # each server stopped by its own handle
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=10)
    return results


if __name__ == "__main__":
    main()
