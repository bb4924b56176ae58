"""W3C trace context between runs and the outside world, without opentelemetry imports.

Outgoing: the tracing consumer publishes each running node's span as a `traceparent` header value under
(run id, node id), a node inside a flow node under its path (`map1/3/call`); a component making an HTTP
call asks `traceparent(ctx.run_id, ctx.node_path)`, so its call carries its own span, at any depth. A lookup
table rather than a context variable: node tasks are created before the consumer sees their
`NodeStarted`, so a variable it set would never reach them. With tracing off the table stays empty.

Incoming: `patchwire serve` hands a request's `traceparent`/`tracestate` to `continue_trace` before the
run's consumers are made; the tracing consumer takes them (`take_incoming`) and parents the run's root
span on the caller's span. Nothing is kept unless a tracing consumer exists in this process.
"""

from __future__ import annotations

import re

__all__ = ["traceparent", "continue_trace", "publish", "withdraw", "take_incoming", "accept_incoming",
           "format_traceparent", "TRACEPARENT"]

TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
MAX_PENDING = 1024  # incoming contexts waiting for their run's consumer; older ones are dropped

_published: dict[tuple[str, str | None], str] = {}  # (run id, node path or None for the root) -> traceparent
_incoming: dict[str, dict[str, str]] = {}  # run id -> {"traceparent": ..., "tracestate": ...}
_accepting = False  # set once a tracing consumer factory exists in this process


def traceparent(run_id: str, node_id: str | None = None) -> str | None:
    """The `traceparent` header for a call made by node `node_id` of run `run_id`, or None (tracing off).

    Falls back to the run's root span when the node's span is not published (yet)."""
    if not _published:
        return None
    return _published.get((run_id, node_id)) or _published.get((run_id, None))


def format_traceparent(trace_id: int, span_id: int, sampled: bool) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


def publish(run_id: str, node_id: str | None, header: str) -> None:
    _published[(run_id, node_id)] = header


def withdraw(run_id: str, node_id: str | None) -> None:
    _published.pop((run_id, node_id), None)


def accept_incoming() -> None:
    """Called by the tracing consumer's factory: from now on `continue_trace` keeps what it is given."""
    global _accepting
    _accepting = True


def continue_trace(run_id: str, traceparent_header: str | None, tracestate: str | None = None) -> bool:
    """Make run `run_id` a child of the caller's span; False when tracing is off or the header is invalid
    (the run then starts a trace of its own, as the W3C spec says)."""
    if not _accepting or not traceparent_header:
        return False
    header = traceparent_header.strip().lower()
    match = TRACEPARENT.match(header)
    if match is None or header.startswith("ff") or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return False
    while len(_incoming) >= MAX_PENDING:  # a run whose consumer was never made
        _incoming.pop(next(iter(_incoming)))
    _incoming[run_id] = {"traceparent": header, **({"tracestate": tracestate} if tracestate else {})}
    return True


def take_incoming(run_id: str) -> dict[str, str] | None:
    """The caller's trace context for `run_id` (headers as given), once."""
    return _incoming.pop(run_id, None) if _incoming else None
