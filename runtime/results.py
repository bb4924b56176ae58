"""`RunResult`: what a finished run returned, folded from its event stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from .events import (
    NodeCached,
    NodeCancelled,
    NodeFailed,
    NodeFinished,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeStatus,
    RunFinished,
    RunStarted,
    RunStatus,
)

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

    def to_json(self) -> dict[str, Any]:
        """The `patchwire run --json` object (JSON-ready; values that are not JSON become their repr)."""
        return {
            "run_id": self.run_id, "status": self.status, "latency_ms": _ms(self.latency_ms),
            "outputs": jsonable(self.outputs),
            "nodes": {node_id: {"status": n.status, "latency_ms": _ms(n.latency_ms), "attempts": n.attempts,
                                "outputs": jsonable(n.outputs), "error": n.error, "skip_reason": n.skip_reason}
                      for node_id, n in self.nodes.items()},
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def jsonable(value: Any) -> Any:
    return to_jsonable_python(value, fallback=repr)


class ResultCollector:
    """Folds events into a `RunResult`; feed it every event in order."""

    def __init__(self) -> None:
        self.result: RunResult | None = None

    def __call__(self, event: Any) -> None:
        kind = event.__class__
        if kind is RunStarted:
            self.result = RunResult(run_id=event.run_id, nodes={nid: NodeResult() for nid in event.node_ids})
            return
        result = self.result
        if result is None:
            raise RuntimeError("events must start with RunStarted")
        if kind is RunFinished:
            result.status = event.status
            result.latency_ms = event.latency_ms
            result.outputs = event.outputs
            result.error = None if event.error is None else {"type": event.error.type,
                                                             "message": event.error.message}
            return
        node = result.nodes[event.node_id]
        if kind is NodeStarted:
            node.status, node.attempts = "running", event.attempt
        elif kind is NodeRetrying:
            node.attempts = event.attempt
        elif kind is NodeFinished:
            node.status, node.latency_ms, node.attempts, node.outputs = (
                "succeeded", event.latency_ms, event.attempts, event.outputs)
        elif kind is NodeCached:
            node.status, node.outputs, node.latency_ms = "cached", event.outputs, 0.0
        elif kind is NodeSkipped:
            node.status, node.skip_reason = "skipped", event.reason
        elif kind is NodeFailed:
            node.status, node.latency_ms, node.attempts = "failed", event.latency_ms, event.attempts
            node.error = {"type": event.error.type, "message": event.error.message}
        elif kind is NodeCancelled:
            node.status, node.skip_reason = "cancelled", event.reason
