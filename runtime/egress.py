"""An audit of every outbound network call a run makes: DNS lookups and connects, with the node that made them.

Python's audit events `socket.getaddrinfo` and `socket.connect` fire for every lookup and connect in the
process, whatever library makes them (httpx, requests, chromadb, a raw socket), so nothing can bypass
the audit. One hook is installed per process, on the first audited run; with no run in flight it returns
after one dict test.

Attribution: the executor sets `CURRENT_NODE` to `(run_id, node_id)` in each node's task. Tasks and
`asyncio.to_thread` (hence `ctx.to_thread`) copy the context, and `begin` gives the loop a default executor
that does too (asyncio resolves names in it), so a call made on behalf of a node is attributed to it.
A call made while a run is in flight but outside any node (another thread, the run recorder's database
connection) is `unattributed` (`"node": null`) and appears in every run in flight at that moment.

    log = egress.begin(run_id)   # at RunStarted, by every consumer that wants the list (same object)
    ...                          # the run
    egress.end(run_id)           # at RunFinished
    log.entries                  # [{"host", "port", "node", "kind": "connect" | "dns", "ts"}, ...]
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["CURRENT_NODE", "EgressLog", "begin", "end", "for_node", "summary_line", "install_hook"]

# (run_id, node_id) of the node whose task is running; set by the executor around a node's attempts.
CURRENT_NODE: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "patchwire_current_node", default=None)


class EgressLog:
    """The outbound calls of one run, in the order they were made."""

    __slots__ = ("run_id", "entries")

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.entries: list[dict[str, Any]] = []


_ACTIVE: dict[str, EgressLog] = {}  # runs in flight in this process
_LOCK = threading.Lock()
_INSTALLED = False


def begin(run_id: str) -> EgressLog:
    """Start auditing `run_id` (idempotent: every caller gets the same log until `end`)."""
    install_hook()
    _carry_context_into_default_executor()
    with _LOCK:
        log = _ACTIVE.get(run_id)
        if log is None:
            log = _ACTIVE[run_id] = EgressLog(run_id)
    return log


def end(run_id: str) -> None:
    """Stop auditing `run_id`; its log keeps what was recorded."""
    with _LOCK:
        _ACTIVE.pop(run_id, None)


def for_node(entries: list[dict[str, Any]], node_id: str) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["node"] == node_id]


def summary_line(entries: list[dict[str, Any]]) -> str:
    """`Outbound calls: 2, all made by nodes` (the CLI's run summary)."""
    connects = [entry for entry in entries if entry["kind"] == "connect"]
    lookups = len(entries) - len(connects)
    stray = sum(1 for entry in connects if entry["node"] is None)
    stray_dns = sum(1 for entry in entries if entry["node"] is None) - stray
    who = "all made by nodes" if not stray else f"{stray} outside any node (unattributed)"
    if stray_dns:
        who += f", {stray_dns} DNS lookup{'s' * (stray_dns != 1)} outside any node"
    if not entries:
        return f"Outbound calls: 0, {who}"
    counts: dict[str, int] = {}
    for entry in connects:
        target = f"{entry['host']}:{entry['port']}"
        counts[target] = counts.get(target, 0) + 1
    targets = ", ".join(f"{target} ×{n}" for target, n in counts.items())
    dns = f"{lookups} DNS lookup{'s' * (lookups != 1)}" if lookups else ""
    return f"Outbound calls: {len(connects)}, {who} ({'; '.join(t for t in (targets, dns) if t)})"


def install_hook() -> None:
    """Add the audit hook to this process once (audit hooks cannot be removed)."""
    global _INSTALLED
    if _INSTALLED:
        return
    with _LOCK:
        if not _INSTALLED:
            sys.addaudithook(_audit)
            _INSTALLED = True


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _ACTIVE:  # the common case: no run in flight
        return
    if event == "socket.connect":
        address = args[1]
        if not isinstance(address, tuple) or len(address) < 2:
            return  # a Unix socket path: not a network call
        _record(str(address[0]), address[1], "connect")
    elif event == "socket.getaddrinfo":
        _record(str(args[0]), args[1], "dns")


def _record(host: str, port: Any, kind: str) -> None:
    entry_port = port if isinstance(port, int) or port is None else _as_port(port)
    current = CURRENT_NODE.get()
    ts = time.time()
    if current is not None:
        log = _ACTIVE.get(current[0])
        if log is not None:
            log.entries.append({"host": host, "port": entry_port, "node": current[1], "kind": kind, "ts": ts})
            return
    for log in list(_ACTIVE.values()):
        log.entries.append({"host": host, "port": entry_port, "node": None, "kind": kind, "ts": ts})


def _as_port(port: Any) -> int | str:
    text = port.decode() if isinstance(port, bytes) else str(port)
    if text.isdigit():
        return int(text)
    try:
        return socket.getservbyname(text)
    except OSError:
        return text


class _ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose jobs run in the submitter's context (asyncio's `run_in_executor` does not copy it,
    and `loop.getaddrinfo` resolves names there)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def _carry_context_into_default_executor() -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if getattr(loop, "_default_executor", None) is None:  # not yet made: make it one that carries the context
        loop.set_default_executor(_ContextThreadPool(thread_name_prefix="asyncio"))
