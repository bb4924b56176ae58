"""Run events: the one stream that the CLI, the editor, persistence and serving all consume.

Slotted dataclasses (cheap to build on the hot path), a discriminated union on `kind`.
Every node gets exactly one terminal event: finished, cached, skipped, failed or cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, TypeAdapter

__all__ = [
    "RunStarted", "NodeStarted", "NodeChunk", "NodeLog", "NodeFinished", "NodeCached", "NodeSkipped",
    "NodeRetrying", "NodeFailed", "NodeCancelled", "NodePaused", "NodeResumed", "RunFinished", "RunEvent", "ErrorInfo",
    "NodeStatus", "RunStatus", "TERMINAL_NODE_EVENTS", "EVENT_TYPES", "Consumer", "EventFold", "event_to_dict",
    "event_from_dict",
]

# `paused`: held before it starts by a breakpoint (`runtime.debug`), until continued, stepped or stopped.
NodeStatus = Literal["queued", "running", "succeeded", "failed", "skipped", "cached", "cancelled", "paused"]
# `interrupted`: set by the store when the process running the run died (`store.runs.mark_interrupted_runs`);
# a `RunFinished` never carries it. The editor and its canvas read both lists from here (`editor.statuses`).
RunStatus = Literal["running", "succeeded", "failed", "cancelled", "interrupted"]


@dataclass(slots=True)
class ErrorInfo:
    type: str
    message: str
    traceback: str = ""

    def brief(self) -> dict[str, str]:
        """`{"type", "message"}`: what results and views show (the traceback stays in the run record)."""
        return {"type": self.type, "message": self.message}


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
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_started"] = "node_started"


@dataclass(slots=True, kw_only=True)
class NodeChunk:
    run_id: str
    node_id: str
    ts: float
    text: str
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_chunk"] = "node_chunk"


@dataclass(slots=True, kw_only=True)
class NodeLog:
    run_id: str
    node_id: str
    ts: float
    record: dict[str, Any]
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
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
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_finished"] = "node_finished"


@dataclass(slots=True, kw_only=True)
class NodeCached:
    run_id: str
    node_id: str
    ts: float
    outputs: dict[str, Any]
    cache_key: str
    source: Literal["cache", "reused", "pinned"] = "cache"  # reused: "run from here"; pinned: a dev mock
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_cached"] = "node_cached"


@dataclass(slots=True, kw_only=True)
class NodeSkipped:
    run_id: str
    node_id: str
    ts: float
    reason: str
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_skipped"] = "node_skipped"


@dataclass(slots=True, kw_only=True)
class NodeRetrying:
    run_id: str
    node_id: str
    ts: float
    attempt: int
    error: ErrorInfo
    delay_s: float
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
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
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_failed"] = "node_failed"


@dataclass(slots=True, kw_only=True)
class NodeCancelled:
    run_id: str
    node_id: str
    ts: float
    reason: str
    started: bool
    node_path: list[Any] | None = None  # inside a flow node: [node, index, inner node, ...]
    kind: Literal["node_cancelled"] = "node_cancelled"


@dataclass(slots=True, kw_only=True)
class NodePaused:
    """A breakpoint holds the node before it starts (`runtime.debug.Debugger`); not a terminal event."""

    run_id: str
    node_id: str
    ts: float
    inputs: dict[str, Any]  # the resolved inputs the node would start with
    reason: Literal["breakpoint", "step"] = "breakpoint"
    node_path: list[Any] | None = None
    kind: Literal["node_paused"] = "node_paused"


@dataclass(slots=True, kw_only=True)
class NodeResumed:
    """A paused node was let go (its `NodeStarted` follows), with the inputs edited at the breakpoint, if any."""

    run_id: str
    node_id: str
    ts: float
    action: Literal["continue", "step"]
    edited: dict[str, Any] = field(default_factory=dict)  # port -> the value given at the breakpoint
    original: dict[str, Any] = field(default_factory=dict)  # port -> the value it replaced (absent: none)
    node_path: list[Any] | None = None
    kind: Literal["node_resumed"] = "node_resumed"


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
    | NodeFailed | NodeCancelled | NodePaused | NodeResumed | RunFinished,
    Field(discriminator="kind"),
]
TERMINAL_NODE_EVENTS = (NodeFinished, NodeCached, NodeSkipped, NodeFailed, NodeCancelled)
EVENT_TYPES: tuple[type, ...] = get_args(get_args(RunEvent)[0])
# What every entry point attaches to a run: called once per event, in order, on the event loop.
Consumer = Callable[[RunEvent], None]


def _kind(event_type: type) -> str:
    return event_type.__dataclass_fields__["kind"].default  # type: ignore[attr-defined]


def _ignore(fold: Any, event: Any) -> None:
    return None


class EventFold:
    """Base of the consumers that fold a run's events into state.

    A subclass handles an event kind with a method named after it (`on_node_finished`) and lists the
    kinds it does not care about in `IGNORES`. The dispatch table is built once per class, so a fold
    costs one dict lookup per event; a class that neither handles nor ignores some kind fails when it
    is defined, naming the kinds. Adding an event kind therefore touches one place per consumer.
    """

    IGNORES: ClassVar[tuple[type, ...]] = ()
    DISPATCH: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}
    wants_inner_events: ClassVar[bool] = False  # True when `inner_event` is overridden (set per subclass)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = {event_type: f"on_{_kind(event_type)}" for event_type in EVENT_TYPES}
        table = {event_type: getattr(cls, name, _ignore) for event_type, name in names.items()}
        missing = [t.__name__ for t, handler in table.items() if handler is _ignore and t not in cls.IGNORES]
        strays = sorted(n for n in dir(cls) if n.startswith("on_") and n not in names.values())
        if missing or strays:
            raise TypeError(f"{cls.__name__} does not fold every run event: "
                            + (f"it neither handles nor ignores {', '.join(missing)} (add an `on_<kind>` method "
                               "or list the class in IGNORES)" if missing else "")
                            + ("; " if missing and strays else "")
                            + (f"{', '.join(strays)} names no event kind" if strays else "") + ".")
        cls.DISPATCH = table
        if "wants_inner_events" not in cls.__dict__:  # sub-runs forward nothing to a fold that ignores it all
            cls.wants_inner_events = cls.inner_event is not EventFold.inner_event

    def __call__(self, event: RunEvent) -> Any:
        if getattr(event, "node_path", None) is not None:
            return self.inner_event(event)
        return self.DISPATCH[event.__class__](self, event)

    def inner_event(self, event: Any) -> Any:
        """An event of a node inside a flow node's sub-run (`node_path` set, `node_id` its path as text).
        Ignored by default: the flow node's own events carry its results; override to look inside."""
        return None

    def dispatch(self, event: Any) -> Any:
        """Fold `event` with its kind's handler, whether or not it comes from a sub-run."""
        return self.DISPATCH[event.__class__](self, event)

_ADAPTER: TypeAdapter[Any] = TypeAdapter(RunEvent)


def event_to_dict(event: Any) -> dict[str, Any]:
    """JSON-ready dict of an event; values that are not JSON become their `repr`."""
    return _ADAPTER.dump_python(event, mode="json", fallback=repr)


def event_from_dict(data: dict[str, Any]) -> Any:
    return _ADAPTER.validate_python(data)
