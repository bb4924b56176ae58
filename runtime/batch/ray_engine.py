"""`patchwire batch --engine ray`: rows as Ray tasks, on a local Ray (default) or an existing cluster.

Each task gets a chunk of rows, compiles the plan once per worker process (cached) and runs its rows
with asyncio through the very same `run_row` as the local engine, so the records are identical. Ray is
imported only here (`pip install patchwire[ray]`); usage statistics are switched off before it loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import logging
import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .runner import BatchError, Row, run_row

__all__ = ["run_ray", "run_chunk", "chunk_rows", "forwarded_env"]

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


def run_chunk(spec_json: str, plugins: tuple[str, ...], rows: list[Row], concurrency: int,
              record: bool = False) -> list[dict[str, Any]]:
    """A Ray task: run `rows` with asyncio (at most `concurrency` at once) and return their records.

    `record`: store the rows' runs in the run history of the worker's DATABASE_URL (a local Ray started by
    `patchwire batch` inherits this process's; on a cluster, set it on the workers). The URL is not sent
    with the task: it may hold a password."""
    from ..consumers import default_consumers, flush_records

    plan = _plan(spec_json, plugins)
    consumers = default_consumers("batch", record=record)

    async def run_all() -> list[dict[str, Any]]:
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(row: Row) -> dict[str, Any]:
            async with limit:
                return await run_row(plan, row, consumers)

        return list(await asyncio.gather(*(one(row) for row in rows)))

    try:
        return asyncio.run(run_all())
    finally:
        flush_records()  # the task's runs are stored before it reports its rows done


def chunk_rows(rows: Sequence[Row], cpus: int) -> list[list[Row]]:
    """Chunks small enough to balance the load (about four per CPU) and to lose little on a kill."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(rows) / max(1, 4 * cpus))))
    return [list(rows[i:i + size]) for i in range(0, len(rows), size)]


ChunkTask = Callable[[str, tuple[str, ...], list[Row], int, bool], list[dict[str, Any]]]


def run_ray(spec_json: str, plugins: Sequence[str], rows: Sequence[Row], concurrency: int, address: str | None,
            on_record: Callable[[dict[str, Any]], None], *, record: bool = False,
            chunk_task: ChunkTask = run_chunk) -> int:
    """Run every row as part of a Ray task; `on_record` gets each record as its task finishes.

    Returns how many rows were lost to Ray tasks that failed for good (e.g. a worker killed for memory,
    after Ray's own retries); they are not in the output, so a rerun runs them. `chunk_task`: what a task runs,
    `(spec_json, plugins, rows, concurrency, record) -> records` (a module-level function: `patchwire eval`
    sends its experiment as `spec_json` and runs `runtime.eval.ray_rows.eval_chunk`)."""
    ray, started = _connect(address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        chunks = chunk_rows(rows, cpus)
        per_task = min(max(1, concurrency), max((len(c) for c in chunks), default=1))
        max_tasks = max(1, math.ceil(concurrency / per_task))
        task = ray.remote(chunk_task)  # rows never raise: only a dead worker fails a task (Ray retries it)
        if not started:  # a Ray someone else connected, maybe with other settings: the tasks carry today's
            task = task.options(runtime_env={"env_vars": forwarded_env()})
        plugin_refs = tuple(os.path.abspath(p) if os.path.isfile(p) else p for p in plugins)
        spec_ref = ray.put(spec_json)
        waiting = list(reversed(chunks))
        in_flight: dict[Any, int] = {}  # task -> rows in it
        lost = 0
        while waiting or in_flight:
            while waiting and len(in_flight) < max_tasks:
                chunk = waiting.pop()
                in_flight[task.remote(spec_ref, plugin_refs, chunk, per_task, record)] = len(chunk)
            done, _ = ray.wait(list(in_flight), num_returns=1)
            size = in_flight.pop(done[0])
            try:
                records = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                lost += size
                log.warning("a Ray task with %d rows failed: %s", size, _task_error(ray, exc))
                continue
            for record in records:
                on_record(record)
        return lost
    finally:
        if started:
            ray.shutdown()


def _task_error(ray: Any, exc: Exception) -> str:
    """What went wrong in a task, in one line: the worker's own error, also when Ray could not unpickle it."""
    text = str(exc)
    original = text.partition("Original exception:\n")[2]  # ray.exceptions.UnserializableException
    lines = [line.strip() for line in (original or text).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if original or isinstance(exc, ray.exceptions.RayTaskError) else lines[0]


def _connect(address: str | None) -> tuple[Any, bool]:
    """Ray, initialised: an existing `ray.init` in this process (when it is at `address`, or none is asked
    for), else the cluster at `address`, or a new local one. Ray connects a process to one cluster at a
    time: a connection elsewhere is shut down first, never silently used for another address."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to Anyscale
    if not address or _is_loopback(address):
        # A local Ray binds loopback only (as on macOS), instead of this machine's network address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise BatchError("--engine ray needs Ray: `pip install patchwire[ray]` (or `pip install ray`).") from None
    current = _connected_address(ray)
    if current is not None and (not address or address == "auto" or _same_address(current, address)):
        return ray, False
    if address:
        _check_reachable(address)  # before dropping a working connection for an address nobody answers at
    if ray.is_initialized():
        log.warning("disconnecting from the Ray at %s to run on %s", current or "an unknown address", address)
        ray.shutdown()
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                               "log_to_driver": True, "runtime_env": {"env_vars": forwarded_env()}}
    if address:
        options["address"] = address
    else:  # "local": a new Ray of our own, never a cluster some earlier `ray start` left on this machine
        options.update(address="local", num_cpus=os.cpu_count() or 1)
        _bind_loopback(ray)
    try:
        ray.init(**options)
    except ConnectionError as exc:
        raise _unreachable(address, str(exc)) from None
    return ray, True


def _bind_loopback(ray: Any) -> None:
    """A local Ray listens on 127.0.0.1 only. Ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when it is first
    imported, so a `ray` some other code imported before `_connect` set it would bind this machine's network
    address: the setting it was read into is turned off too."""
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    if getattr(constants, "ENABLE_RAY_CLUSTER", False):
        constants.ENABLE_RAY_CLUSTER = False  # type: ignore[union-attr]


# Settings the rows need on a worker: where data, Chroma and the database are, what may be reached and read.
FORWARDED = ("PATCHWIRE_*", "CHROMA_HOST", "CHROMA_PORT", "DATABASE_URL", "LITELLM_LOCAL_MODEL_COST_MAP",
             "OPENAI_API_BASE", "OPENAI_BASE_URL", "OLLAMA_API_BASE", "OTEL_*")
NOT_FORWARDED = ("PATCHWIRE_API_TOKEN", "PATCHWIRE_AUTH_TOKEN")  # the servers' login tokens: no worker needs them


def forwarded_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The driver's settings for Ray workers (`runtime_env.env_vars`): `FORWARDED` names, plus the secrets
    components may read (`PATCHWIRE_SECRETS`, default `*_API_KEY`), by name. Workers of an existing cluster
    do not inherit the driver's environment; without these every row would fail there."""
    from ..secrets import allowed_secret_patterns

    env = os.environ if environ is None else environ
    patterns = (*FORWARDED, *allowed_secret_patterns())
    return {name: value for name, value in env.items()
            if name not in NOT_FORWARDED and any(fnmatch.fnmatchcase(name, p) for p in patterns)}


CONNECT_TIMEOUT_S = 5.0


def _check_reachable(address: str) -> None:
    """Fail in seconds on an address where nothing listens (Ray itself retries for minutes)."""
    target = address.removeprefix("ray://")
    if target == "auto":
        return
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise BatchError(f"--ray-address `{address}` must look like HOST:PORT (the head node's GCS address, "
                         "e.g. 127.0.0.1:6379) or ray://HOST:PORT.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise _unreachable(address, f"{exc.strerror or type(exc).__name__} after at most "
                                    f"{CONNECT_TIMEOUT_S:g} s") from None


def _unreachable(address: str | None, detail: str) -> BatchError:
    return BatchError(f"Cannot reach the Ray cluster at `{address}`: {detail}. Check the address "
                      "(`ray status` on the head node prints it), or leave out --ray-address for a local Ray.")


def _connected_address(ray: Any) -> str | None:
    """The GCS address this process is connected to; "" when connected but it cannot tell (Ray Client)."""
    if not ray.is_initialized():
        return None
    try:
        return str(ray.get_runtime_context().gcs_address or "")
    except Exception:  # noqa: BLE001 -- whatever a Ray Client context raises: "cannot tell", so reconnect
        return ""


def _same_address(current: str, asked: str) -> bool:
    """Whether `asked` (HOST:PORT) names the GCS at `current`; a ray:// address is Ray Client's, never equal."""
    if not current or asked.startswith("ray://"):
        return False
    return _host_port(current) == _host_port(asked)


def _host_port(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    with contextlib.suppress(OSError):  # a name that does not resolve is compared as written
        host = socket.gethostbyname(host)
    return host, port


def _is_loopback(address: str) -> bool:
    from ..cli.serve import is_loopback

    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return is_loopback(host)
