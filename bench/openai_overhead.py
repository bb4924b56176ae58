"""What the OpenAI-compatible API of `patchwire serve` costs, measured against the service's own run route.

    .venv/bin/python bench/openai_overhead.py [--concurrency 4,16] [--seconds 3] [--rounds 5] [--model-ms 10]
                                              [--streams 30]

1. Throughput: `POST /v1/chat/completions` against `POST /v1/pipelines/bench/run` on the same server, the
   same pipeline (echo -> mocked model (demo.delay, `--model-ms`) beside an echo -> fan-in concat -> output)
   and the same load (one loopback httpx client keeping `--concurrency` requests in flight). Rounds
   alternate between the two routes; the table shows each route's median round and the server's CPU time
   per request (from /proc). Then a mixed round: every client worker alternates the two routes request by
   request, so both see the same moment of a noisy machine; its latencies are compared per route.
2. Streaming: a pipeline whose model node (`llm.chat`) streams from the loopback fake OpenAI server (50 ms
   between tokens). For each of `--streams` requests: when the fake model wrote its first token, and when
   the first content chunk of `chat/completions` (`stream: true`) reached the client; the same for the
   request sent straight to the fake model (the client's own share). And the serving path alone: a node
   (bench/stream_probe.py) whose tokens carry their emission time, so the client sees how long each
   token took from the node to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import Request, drive, free_port, load, measure, medians, start_server, table_rows  # noqa: E402
from bench.serve_overhead import RUN, pipeline_spec  # noqa: E402

CHAT = "/v1/chat/completions"


def serve(spec_files: list[Path], port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "runtime.cli", "serve", *map(str, spec_files), "--port", str(port),
               "--no-access-log", "--no-record", "--plugin", "runtime.testing.components",
               "--plugin", str(ROOT / "bench" / "stream_probe.py")]
    return start_server(command, f"http://127.0.0.1:{port}/healthz", env=env, timeout_s=60)


def request(route: str, query: str) -> dict[str, Any]:
    if route == RUN:
        return {"inputs": {"query": query}}
    return {"model": "patchwire/bench", "messages": [{"role": "user", "content": query}]}


def answer(route: str, body: dict[str, Any]) -> str:
    return body["outputs"]["out"] if route == RUN else body["choices"][0]["message"]["content"]


def on(route: str) -> Callable[[int, int], Request]:
    """Every request to `route`, its answer checked."""
    return lambda worker, i: call(route, f"w{worker}-{i}")


def alternating(worker: int, i: int) -> Request:
    """Each worker alternates the routes request by request, so both see the same moment of a noisy machine."""
    return call((RUN, CHAT)[(i + worker) % 2], f"w{worker}-{i}")


def call(route: str, query: str) -> Request:
    def check(response: Any) -> None:
        assert response.status_code == 200, response.text
        assert answer(route, response.json()) == f"Q: {query}|side: Q: {query}"

    return route, request(route, query), check


def mixed_rows(base: str, levels: list[int], seconds: float) -> list[str]:
    lines = ["", f"Mixed rounds ({seconds * 3:g} s per level): each worker alternates the routes request by request.", "",
             "| concurrent requests | route | requests | p50 (ms) | p95 (ms) |", "|---:|---|---:|---:|---:|"]
    for concurrency in levels:
        got, _ = asyncio.run(drive(base, concurrency, seconds * 3, alternating))
        cut = {route: sorted(t * 1000 for t in values) for route, values in got.items()}
        p50 = {route: statistics.median(values) for route, values in cut.items()}
        p95 = {route: values[int(len(values) * 0.95) - 1] for route, values in cut.items()}
        for route in (RUN, CHAT):
            lines.append(f"| {concurrency} | `{route}` | {len(cut[route])} | {p50[route]:.1f} | {p95[route]:.1f} |")
        lines.append(f"| {concurrency} | **overhead** | | {100 * (p50[CHAT] / p50[RUN] - 1):+.1f}% | "
                     f"{100 * (p95[CHAT] / p95[RUN] - 1):+.1f}% |")
    return lines


def throughput(base: str, pid: int, args: argparse.Namespace) -> str:
    levels = [int(c) for c in args.concurrency.split(",")]
    for route in (RUN, CHAT):  # warm up both
        load(base, max(levels), 1.0, on(route))
    lines = [f"Pipeline: echo -> mocked model ({args.model_ms:g} ms) beside an echo -> fan-in concat; one `patchwire "
             f"serve` process, {args.rounds} alternating rounds of {args.seconds:g} s per route, median round; "
             f"{os.cpu_count()} CPUs shared by client and server.", "",
             "| concurrent requests | route | requests/s | p50 (ms) | p95 (ms) | server CPU per request (µs) |",
             "|---:|---|---:|---:|---:|---:|"]
    for concurrency in levels:
        rounds: dict[str, list[dict[str, float]]] = {RUN: [], CHAT: []}
        for _ in range(args.rounds):
            for route in (RUN, CHAT):
                rounds[route].append(measure(base, pid, concurrency, args.seconds, on(route)))
        lines += table_rows(concurrency, medians(rounds), RUN, CHAT, label=lambda route: f"`{route}`")
    return "\n".join(lines + mixed_rows(base, levels, args.seconds))


async def first_content(client: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> float:
    """`time.time()` when the first non-empty content delta of a streamed chat completion arrived."""
    seen = []
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            seen.append(line)
            if line.startswith("data: {"):
                choices = json.loads(line[6:]).get("choices") or [{}]
                if choices[0].get("delta", {}).get("content"):
                    return time.time()
    raise AssertionError(f"no content chunk arrived from {url}; the stream was:\n" + "\n".join(seen[-10:]))


async def streaming(base: str, fake: Any, count: int) -> str:
    import httpx

    relay, relay_direct, ours, direct = [], [], [], []
    body = {"model": "patchwire/stream-bench", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    model_body = {**body, "model": "gpt-4o-mini"}
    auth = {"Authorization": "Bearer sk-test"}
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(count + 3):  # the first three warm up
            question = f"how fast is streaming number {i}"
            body["messages"][0]["content"] = model_body["messages"][0]["content"] = question
            t0 = time.time()
            arrived = await first_content(client, f"{base}{CHAT}", body, {})
            model_first = fake.requests[-1]["chunk_times"][1]  # [0] is the role chunk
            t1 = time.time()
            straight = await first_content(client, f"{fake.base_url}/chat/completions", model_body, auth)
            straight_first = fake.requests[-1]["chunk_times"][1]
            if i >= 3:
                relay.append((arrived - model_first) * 1000)
                relay_direct.append((straight - straight_first) * 1000)
                ours.append((arrived - t0) * 1000)
                direct.append((straight - t1) * 1000)
        probe = await probe_latencies(client, base, count)
    added = statistics.median(relay) - statistics.median(relay_direct)
    return "\n".join([
        f"Streaming, {count} requests one after another (llm.chat streaming from the fake model, 50 ms between "
        "tokens):", "",
        "| measure | median (ms) | p95 (ms) |", "|---|---:|---:|",
        f"| model writes its first token -> client has it, through `patchwire serve` | {_stats(relay)} |",
        f"| model writes its first token -> client has it, straight from the model | {_stats(relay_direct)} |",
        f"| **added by Patchwire after the model's first token** (difference of medians) | {added:.2f} | |",
        f"| request -> first content chunk, through `patchwire serve` (pipeline start and litellm included) | "
        f"{_stats(ours)} |",
        f"| request -> first content chunk, straight to the model | {_stats(direct)} |",
        f"| a node emits a token -> client has it (serving path alone, every token of {count} streams) | "
        f"{_stats(probe)} |"])


async def probe_latencies(client: Any, base: str, count: int) -> list[float]:
    """Per token: arrival at the client minus the emission time the token carries."""
    latencies = []
    body = {"model": "patchwire/probe", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    for _ in range(count):
        async with client.stream("POST", f"{base}{CHAT}", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: {"):
                    continue
                now = time.time()
                choices = json.loads(line[6:]).get("choices") or [{}]
                token = choices[0].get("delta", {}).get("content")
                if token and token.strip() and choices[0].get("finish_reason") is None:
                    latencies.extend((now - float(stamp)) * 1000 for stamp in token.split())
    return latencies


def _stats(values: list[float]) -> str:
    values = sorted(values)
    return f"{statistics.median(values):.2f} | {values[max(0, int(len(values) * 0.95) - 1)]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="4,16", help="comma-separated levels (default 4,16)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model-ms", type=float, default=10.0)
    parser.add_argument("--streams", type=int, default=30)
    args = parser.parse_args()
    from runtime.testing.fake_openai import FakeOpenAI
    from runtime.testing.specs import make_spec

    with FakeOpenAI(chunk_delay=0.05) as fake, tempfile.TemporaryDirectory() as folder:
        bench_file, stream_file = Path(folder) / "bench.json", Path(folder) / "stream.json"
        probe_file = Path(folder) / "probe.json"
        probe_file.write_text(make_spec(
            {"q": ("io.input", {}), "clock": ("bench.clock_stream", {}), "o": ("io.output", {})},
            [("q", "value", "clock", "value"), ("clock", "value", "o", "value")], name="probe").model_dump_json())
        bench_file.write_text(pipeline_spec(args.model_ms / 1000).model_dump_json())
        stream_file.write_text(make_spec(
            {"query": ("io.input", {}), "generate": ("llm.chat", {"model": "openai/gpt-4o-mini",
                                                                 "api_base": fake.base_url, "max_tokens": 64}),
             "answer": ("io.output", {})},
            [("query", "value", "generate", "prompt"), ("generate", "text", "answer", "value")],
            name="stream-bench").model_dump_json())
        port = free_port()
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
               "PYTHONPATH": str(ROOT), "PATCHWIRE_MODEL_BASES": "127.0.0.1"}  # the operator trusts the fake model
        server = serve([bench_file, stream_file, probe_file], port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            print(throughput(base, server.pid, args))
            print()
            print(asyncio.run(streaming(base, fake, args.streams)))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
