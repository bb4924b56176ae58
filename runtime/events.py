"""Run events: the one stream that the CLI, the editor, persistence and serving all consume.

Slotted dataclasses (cheap to build on the hot path), a discriminated union on `kind`.
Every node gets exactly one terminal event: finished, cached, skipped, failed or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

__all__ = [
    "RunStarted", "NodeStarted", "NodeChunk", "NodeLog", "NodeFinished", "NodeCached", "NodeSkipped",
    "NodeRetrying", "NodeFailed", "NodeCancelled", "RunFinished", "RunEvent", "ErrorInfo",
    "NodeStatus", "RunStatus", "TERMINAL_NODE_EVENTS", "event_to_dict", "event_from_dict",
]

NodeStatus = Literal["queued", "running", "succeeded", "failed", "skipped", "cached", "cancelled"]
# `interrupted`: set by the store when the process running the run died (`store.runs.mark_interrupted_runs`);
# a `RunFinished` never carries it. The editor and its canvas read both lists from here (`editor.statuses`).
RunStatus = Literal["running", "succeeded", "failed", "cancelled", "interrupted"]


@dataclass(slots=True)
class ErrorInfo:
    type: str
    message: str
    traceback: str = ""


@dataclass(slots=True, kw_only=True)
class RunStarted:
    run_id: str
    ts: float
    pipeline: str
    inputs: dict[str, Any]
    node_ids: list[str]
    kind: Literal["run_started"] = "run_started"


@dataclass(slots=True, kw_only=True)
class NodeStarted:
    run_id: str
    node_id: str
    ts: float
    attempt: int
    inputs: dict[str, Any]
    kind: Literal["node_started"] = "node_started"


@dataclass(slots=True, kw_only=True)
class NodeChunk:
    run_id: str
    node_id: str
    ts: float
    text: str
    kind: Literal["node_chunk"] = "node_chunk"


@dataclass(slots=True, kw_only=True)
class NodeLog:
    run_id: str
    node_id: str
    ts: float
    record: dict[str, Any]
    kind: Literal["node_log"] = "node_log"


@dataclass(slots=True, kw_only=True)
class NodeFinished:
    run_id: str
    node_id: str
    ts: float
    latency_ms: float
    attempts: int
    outputs: dict[str, Any]
    trace: dict[str, Any] = field(default_factory=dict)
    kind: Literal["node_finished"] = "node_finished"


@dataclass(slots=True, kw_only=True)
class NodeCached:
    run_id: str
    node_id: str
    ts: float
    outputs: dict[str, Any]
    cache_key: str
    source: Literal["cache", "reused", "pinned"] = "cache"  # reused: "run from here"; pinned: a dev mock
    kind: Literal["node_cached"] = "node_cached"


@dataclass(slots=True, kw_only=True)
class NodeSkipped:
    run_id: str
    node_id: str
    ts: float
    reason: str
    kind: Literal["node_skipped"] = "node_skipped"


@dataclass(slots=True, kw_only=True)
class NodeRetrying:
    run_id: str
    node_id: str
    ts: float
    attempt: int
    error: ErrorInfo
    delay_s: float
    kind: Literal["node_retrying"] = "node_retrying"


@dataclass(slots=True, kw_only=True)
class NodeFailed:
    run_id: str
    node_id: str
    ts: float
    latency_ms: float
    attempts: int
    error: ErrorInfo
    handled: bool = False  # an error branch or on_error=continue took it
    trace: dict[str, Any] = field(default_factory=dict)
    kind: Literal["node_failed"] = "node_failed"


@dataclass(slots=True, kw_only=True)
class NodeCancelled:
    run_id: str
    node_id: str
    ts: float
    reason: str
    started: bool
    kind: Literal["node_cancelled"] = "node_cancelled"


@dataclass(slots=True, kw_only=True)
class RunFinished:
    run_id: str
    ts: float
    status: Literal["succeeded", "failed", "cancelled"]
    latency_ms: float
    outputs: dict[str, Any]
    error: ErrorInfo | None = None
    kind: Literal["run_finished"] = "run_finished"


RunEvent = Annotated[
    RunStarted | NodeStarted | NodeChunk | NodeLog | NodeFinished | NodeCached | NodeSkipped | NodeRetrying
    | NodeFailed | NodeCancelled | RunFinished,
    Field(discriminator="kind"),
]
TERMINAL_NODE_EVENTS = (NodeFinished, NodeCached, NodeSkipped, NodeFailed, NodeCancelled)

_ADAPTER: TypeAdapter[Any] = TypeAdapter(RunEvent)


def event_to_dict(event: Any) -> dict[str, Any]:
    """JSON-ready dict of an event; values that are not JSON become their `repr`."""
    return _ADAPTER.dump_python(event, mode="json", fallback=repr)


def event_from_dict(data: dict[str, Any]) -> Any:
    return _ADAPTER.validate_python(data)
