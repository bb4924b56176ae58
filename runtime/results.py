"""`RunResult`: what a finished run returned, folded from its event stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from . import egress
from .events import EventFold, NodeChunk, NodeLog, NodePaused, NodeResumed, NodeStatus, RunStatus

__all__ = ["RunResult", "NodeResult", "ResultCollector", "jsonable"]


@dataclass(slots=True)
class NodeResult:
    """One node's outcome (a plain dataclass: the collector updates it once per event)."""

    status: NodeStatus = "queued"
    latency_ms: float | None = None
    attempts: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None
    skip_reason: str | None = None


class RunResult(BaseModel):
    run_id: str
    status: RunStatus = "running"
    latency_ms: float | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)
    nodes: dict[str, NodeResult] = Field(default_factory=dict)
    error: dict[str, str] | None = None
    egress: list[dict[str, Any]] = Field(default_factory=list)  # every outbound call (`runtime.egress`)

    def to_json(self) -> dict[str, Any]:
        """The `patchwire run --json` object (JSON-ready; values that are not JSON become their repr)."""
        return {
            "run_id": self.run_id, "status": self.status, "latency_ms": _ms(self.latency_ms),
            "outputs": jsonable(self.outputs), "error": self.error,
            "nodes": {node_id: {"status": n.status, "latency_ms": _ms(n.latency_ms), "attempts": n.attempts,
                                "outputs": jsonable(n.outputs), "error": n.error, "skip_reason": n.skip_reason,
                                "egress": egress.for_node(self.egress, node_id)}
                      for node_id, n in self.nodes.items()},
            "egress": list(self.egress),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def jsonable(value: Any) -> Any:
    return to_jsonable_python(value, fallback=repr)


_NOT_STARTED_YET = "events must start with RunStarted"


class _NotStarted(dict):
    def __missing__(self, key: str) -> Any:
        raise RuntimeError(_NOT_STARTED_YET)


_NOT_STARTED: dict[str, Any] = _NotStarted()


class ResultCollector(EventFold):
    """Folds events into a `RunResult`; feed it every event in order."""

    # Streamed text ends up in the outputs, logs are for the run record; a breakpoint ends before the node starts.
    IGNORES = (NodeChunk, NodeLog, NodePaused, NodeResumed)

    def __init__(self) -> None:
        self.result: RunResult | None = None
        self._nodes: dict[str, NodeResult] = _NOT_STARTED  # the result's nodes, once RunStarted made them
        self._egress: egress.EgressLog | None = None

    def on_run_started(self, event: Any) -> None:
        self.result = RunResult(run_id=event.run_id, nodes={nid: NodeResult() for nid in event.node_ids})
        self._nodes = self.result.nodes
        self._egress = egress.begin(event.run_id)

    def on_run_finished(self, event: Any) -> None:
        result = self.result
        if result is None:
            raise RuntimeError(_NOT_STARTED_YET)
        result.status, result.latency_ms, result.outputs = event.status, event.latency_ms, event.outputs
        result.error = None if event.error is None else event.error.brief()
        egress.end(event.run_id)
        result.egress = self._egress.entries if self._egress is not None else []

    def on_node_started(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.attempts = "running", event.attempt

    def on_node_retrying(self, event: Any) -> None:
        self._nodes[event.node_id].attempts = event.attempt

    def on_node_finished(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.latency_ms, node.attempts, node.outputs = (
            "succeeded", event.latency_ms, event.attempts, event.outputs)

    def on_node_cached(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.outputs, node.latency_ms = "cached", event.outputs, 0.0

    def on_node_skipped(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.skip_reason = "skipped", event.reason

    def on_node_failed(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.latency_ms, node.attempts = "failed", event.latency_ms, event.attempts
        node.error = event.error.brief()

    def on_node_cancelled(self, event: Any) -> None:
        node = self._nodes[event.node_id]
        node.status, node.skip_reason = "cancelled", event.reason
