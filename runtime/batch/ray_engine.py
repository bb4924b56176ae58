"""`patchwire batch --engine ray`: rows as Ray tasks, on a local Ray (default) or an existing cluster.

Each task gets a chunk of rows, compiles the plan once per worker process (cached) and runs its rows
with asyncio through the very same `run_row` as the local engine, so the records are identical. Ray is
imported only here (`pip install patchwire[ray]`); usage statistics are switched off before it loads.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from .runner import BatchError, Row, run_row

__all__ = ["run_ray", "run_chunk", "chunk_rows"]

MAX_CHUNK = 16
log = logging.getLogger("patchwire.batch")
_PLANS: dict[tuple[str, tuple[str, ...]], Any] = {}  # per worker process: compiled once, reused by tasks


def _plan(spec_json: str, plugins: tuple[str, ...]) -> Any:
    key = (hashlib.sha256(spec_json.encode()).hexdigest(), plugins)
    plan = _PLANS.get(key)
    if plan is None:
        from ..api import compile
        from ..loading import parse_spec
        from ..registry import default_registry

        plan = _PLANS[key] = compile(parse_spec(spec_json), default_registry(plugins))
    return plan


def run_chunk(spec_json: str, plugins: tuple[str, ...], rows: list[Row], concurrency: int) -> list[dict[str, Any]]:
    """A Ray task: run `rows` with asyncio (at most `concurrency` at once) and return their records."""
    plan = _plan(spec_json, plugins)

    async def run_all() -> list[dict[str, Any]]:
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(row: Row) -> dict[str, Any]:
            async with limit:
                return await run_row(plan, row)

        return list(await asyncio.gather(*(one(row) for row in rows)))

    return asyncio.run(run_all())


def chunk_rows(rows: Sequence[Row], cpus: int) -> list[list[Row]]:
    """Chunks small enough to balance the load (about four per CPU) and to lose little on a kill."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(rows) / max(1, 4 * cpus))))
    return [list(rows[i:i + size]) for i in range(0, len(rows), size)]


def run_ray(spec_json: str, plugins: Sequence[str], rows: Sequence[Row], concurrency: int, address: str | None,
            on_record: Callable[[dict[str, Any]], None]) -> int:
    """Run every row as part of a Ray task; `on_record` gets each record as its task finishes.

    Returns how many rows were lost to Ray tasks that failed for good (e.g. a worker killed for memory,
    after Ray's own retries); they are not in the output, so a rerun runs them."""
    ray, started = _connect(address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        chunks = chunk_rows(rows, cpus)
        per_task = min(max(1, concurrency), max((len(c) for c in chunks), default=1))
        max_tasks = max(1, math.ceil(concurrency / per_task))
        task = ray.remote(run_chunk)  # rows never raise: only a dead worker fails a task (Ray retries it)
        plugin_refs = tuple(os.path.abspath(p) if os.path.isfile(p) else p for p in plugins)
        spec_ref = ray.put(spec_json)
        waiting = list(reversed(chunks))
        in_flight: dict[Any, int] = {}  # task -> rows in it
        lost = 0
        while waiting or in_flight:
            while waiting and len(in_flight) < max_tasks:
                chunk = waiting.pop()
                in_flight[task.remote(spec_ref, plugin_refs, chunk, per_task)] = len(chunk)
            done, _ = ray.wait(list(in_flight), num_returns=1)
            size = in_flight.pop(done[0])
            try:
                records = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                lost += size
                log.warning("a Ray task with %d rows failed: %s", size, str(exc).splitlines()[0])
                continue
            for record in records:
                on_record(record)
        return lost
    finally:
        if started:
            ray.shutdown()


def _connect(address: str | None) -> tuple[Any, bool]:
    """Ray, initialised: an existing `ray.init` in this process, the cluster at `address`, or a new local one."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to Anyscale
    if not address or _is_loopback(address):
        # A local Ray binds loopback only (as on macOS), instead of this machine's network address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise BatchError("--engine ray needs Ray: `pip install patchwire[ray]` (or `pip install ray`).") from None
    if ray.is_initialized():
        return ray, False
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                               "log_to_driver": True}
    if address:
        options["address"] = address
    else:
        options["num_cpus"] = os.cpu_count() or 1
    try:
        ray.init(**options)
    except ConnectionError as exc:
        raise BatchError(f"Cannot reach the Ray cluster at `{address}`: {exc}. Check the address "
                         "(`ray status` on the head node prints it), or leave out --ray-address for a local "
                         "Ray.") from None
    return ray, True


def _is_loopback(address: str) -> bool:
    from ..cli.serve import is_loopback

    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return is_loopback(host)
