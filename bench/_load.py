"""The load loop, server start-up and timing shared by the serving benchmarks (serve_overhead, openai_overhead).

    server = start_server(command, "http://127.0.0.1:8000/healthz")   # waits until it answers
    latencies, elapsed = asyncio.run(drive(base, 16, 3.0, request))   # 16 requests in flight for 3 s, by path
    row = measure(base, server.pid, 16, 3.0, request)                  # a round's rps, p50, p95, CPU/request

`request(worker, i)` says what worker `worker` sends the `i`-th time: (path, JSON body, check), and
`check(response)` asserts the answer. Only the request itself is timed, never the check.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runtime.testing.servers import free_port

__all__ = ["free_port", "start_server", "drive", "summary", "load", "cpu_seconds", "measure", "medians",
           "table_rows", "KEYS"]

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("rps", "p50", "p95", "cpu_us")
Request = tuple[str, dict[str, Any], Callable[[Any], None]]


def start_server(command: list[str], ready_url: str, *, env: Mapping[str, str] | None = None,
                 timeout_s: float = 30.0) -> subprocess.Popen:
    """Start `command` in the repository and wait until `ready_url` answers; its stderr is in the error."""
    import httpx

    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(ready_url, timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stderr = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"server did not start: {' '.join(command)}\n{stderr}") from None
            time.sleep(0.1)


async def drive(base: str, concurrency: int, seconds: float,
                request: Callable[[int, int], Request]) -> tuple[dict[str, list[float]], float]:
    """Keep `concurrency` requests in flight for `seconds`; every answer is checked. Returns each path's
    latencies (s) and the wall time the workers took."""
    import httpx

    latencies: dict[str, list[float]] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker(w: int) -> None:
            i = 0
            while time.perf_counter() < stop:
                path, body, check = request(w, i)
                t0 = time.perf_counter()
                response = await client.post(path, json=body)
                latencies.setdefault(path, []).append(time.perf_counter() - t0)
                check(response)
                i += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return latencies, elapsed


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    """Requests per second, p50 and p95 (ms) and the count of one round."""
    latencies = sorted(latencies)
    return {"rps": len(latencies) / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000, "n": len(latencies)}


def load(base: str, concurrency: int, seconds: float, request: Callable[[int, int], Request]) -> dict[str, float]:
    """One round of `drive` (all paths together) as its `summary`."""
    latencies, elapsed = asyncio.run(drive(base, concurrency, seconds, request))
    return summary([t for values in latencies.values() for t in values], elapsed)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): load-independent cost per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base: str, pid: int, concurrency: int, seconds: float,
            request: Callable[[int, int], Request]) -> dict[str, float]:
    """One round of `load` plus `cpu_us`: the CPU time the server (process `pid`) spent per request."""
    cpu0 = cpu_seconds(pid)
    result = load(base, concurrency, seconds, request)
    result["cpu_us"] = (cpu_seconds(pid) - cpu0) / result["n"] * 1e6
    return result


def medians(rounds: Mapping[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per name, the median round of each of KEYS."""
    return {name: {k: statistics.median(r[k] for r in rows) for k in KEYS} for name, rows in rounds.items()}


def table_rows(concurrency: int, med: Mapping[str, dict[str, float]], base: str, ours: str,
               label: Callable[[str], str] = str) -> list[str]:
    """A table row per name (median rounds), then how much `ours` costs over `base`."""
    lines = [f"| {concurrency} | {label(name)} | {row['rps']:.0f} | {row['p50']:.1f} | {row['p95']:.1f} | "
             f"{row['cpu_us']:.0f} |" for name, row in med.items()]
    b, o = med[base], med[ours]
    return [*lines, f"| {concurrency} | **overhead** | {100 * (1 - o['rps'] / b['rps']):+.1f}% | "
                    f"{100 * (o['p50'] / b['p50'] - 1):+.1f}% | {100 * (o['p95'] / b['p95'] - 1):+.1f}% | "
                    f"{o['cpu_us'] - b['cpu_us']:+.0f} µs |"]
