"""Live item counts of a run's map nodes (`37/100 · 2 failed`) and loop iterations, read off their sub-runs' forwarded events.

A map node reports its exact counts when it ends (`trace["items"]` of its terminal event); until then a
viewer (`runtime.live`) counts an item once every node of its sub-run has had its one terminal event:
failed when one of them failed unhandled, not counted when it was cancelled (the map stopped). Events
of deeper flows (`node_path` longer than node, index, inner node) are left to their own flow node.
Only the items in flight are kept, so memory does not grow with the number of items. A loop node's
iteration (`iteration 3/10`) is the highest one its inner events came from (`LoopProgress`).
"""

from __future__ import annotations

from typing import Any

from ..events import TERMINAL_NODE_EVENTS, NodeCancelled, NodeFailed

__all__ = ["MapProgress", "LoopProgress"]


class MapProgress:
    """Per map node of one plan: `[done, total, failed]`, updated in place (views may hold the list)."""

    __slots__ = ("sizes", "counts", "_open")

    def __init__(self, plan: Any):
        self.sizes: dict[str, int] = {
            node.id: len(node.component.plan.nodes) for node in plan.nodes
            if node.component_id == "flow.map" and getattr(node.component, "plan", None) is not None}
        self.counts: dict[str, list[int]] = {}
        self._open: dict[tuple[str, Any], list[Any]] = {}  # (map, item) -> [terminal events, failed, cancelled]

    def started(self, node_id: str, inputs: dict[str, Any]) -> list[int] | None:
        """The map node `node_id` (re)started on `inputs`: its counts from zero (None for other nodes)."""
        if node_id not in self.sizes:
            return None
        items = inputs.get("items")
        self._forget(node_id)
        counts = self.counts.setdefault(node_id, [0, 0, 0])
        counts[:] = [0, len(items) if isinstance(items, list) else 0, 0]
        return counts

    def inner(self, event: Any) -> None:
        """Count one event of a node inside a map item."""
        path = event.node_path
        if len(path) != 3 or path[0] not in self.sizes or not isinstance(event, TERMINAL_NODE_EVENTS):
            return
        key = (path[0], path[1])
        seen = self._open.get(key)
        if seen is None:
            seen = self._open[key] = [0, False, False]
        seen[0] += 1
        if event.__class__ is NodeFailed and not event.handled:
            seen[1] = True
        elif event.__class__ is NodeCancelled:
            seen[2] = True
        if seen[0] < self.sizes[path[0]]:
            return
        del self._open[key]
        counts = self.counts.get(path[0])
        if counts is not None and (seen[1] or not seen[2]):
            counts[2 if seen[1] else 0] += 1

    def ended(self, node_id: str, trace: dict[str, Any] | None) -> None:
        """The map node ended: its own exact counts replace the live ones."""
        if node_id not in self.sizes:
            return
        self._forget(node_id)
        items = (trace or {}).get("items")
        counts = self.counts.get(node_id)
        if counts is not None and isinstance(items, dict):
            counts[:] = [int(items.get("done", 0)), int(items.get("total", 0)), int(items.get("failed", 0))]

    def _forget(self, node_id: str) -> None:
        for key in [k for k in self._open if k[0] == node_id]:
            del self._open[key]


class LoopProgress:
    """Per loop node of one plan: `[iteration, max_iterations]`, updated in place (views may hold the list).

    The iteration is the highest one an inner node's event came from (a loop runs them one after the
    other); when the loop node ends, the count it recorded (`trace["loop"]`) replaces it."""

    __slots__ = ("bounds", "counts")

    def __init__(self, plan: Any):
        self.bounds: dict[str, int] = {
            node.id: int(node.component.params.max_iterations) for node in plan.nodes
            if node.component_id == "flow.loop" and getattr(node.component, "plan", None) is not None}
        self.counts: dict[str, list[int]] = {}

    def started(self, node_id: str) -> list[int] | None:
        """The loop node `node_id` (re)started: no iteration yet (None for other nodes)."""
        bound = self.bounds.get(node_id)
        if bound is None:
            return None
        counts = self.counts.setdefault(node_id, [0, bound])
        counts[:] = [0, bound]
        return counts

    def inner(self, event: Any) -> None:
        """An event of a node inside a top-level loop's iteration (`node_path` `[loop, index, ...]`)."""
        counts = self.counts.get(event.node_path[0])
        if counts is not None and isinstance(index := event.node_path[1], int) and index >= counts[0]:
            counts[0] = index + 1

    def ended(self, node_id: str, trace: dict[str, Any] | None) -> None:
        counts = self.counts.get(node_id)
        loop = (trace or {}).get("loop")
        if counts is not None and isinstance(loop, dict) and isinstance(loop.get("iterations"), int):
            counts[0] = loop["iterations"]
