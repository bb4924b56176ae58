"""A run's timeline: when each node ran, the critical path, and what parallelism bought."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .spec import PipelineSpec

__all__ = ["build_timeline", "critical_path"]


def critical_path(spec: PipelineSpec, finished_at: dict[str, float]) -> list[str]:
    """The chain of nodes the run waited on: from the last node to finish, back through the upstream
    node that finished last, to a node with no upstream. Only nodes that finished count."""
    if not finished_at:
        return []
    upstream: dict[str, set[str]] = defaultdict(set)
    for edge in spec.edges:
        upstream[edge.target.node].add(edge.source.node)
    node = max(finished_at, key=lambda n: finished_at[n])
    path = [node]
    while True:
        candidates = [u for u in upstream[node] if u in finished_at and u not in path]
        if not candidates:
            return path[::-1]
        node = max(candidates, key=lambda n: finished_at[n])
        path.append(node)


def build_timeline(spec: PipelineSpec, nodes: dict[str, dict[str, Any]], run_started_at: float,
                   latency_ms: float | None) -> dict[str, Any]:
    """Gantt rows (offsets in ms from the run's start), the critical path, and total vs summed latency.

    `nodes`: node id -> {status, started_at, finished_at, latency_ms} (epoch seconds), as in a live
    snapshot or a stored run.
    """
    rows, finished = [], {}
    for node in spec.nodes:
        view = nodes.get(node.id) or {}
        start, end = view.get("started_at"), view.get("finished_at")
        if start is None or end is None:
            continue
        finished[node.id] = end
        rows.append({"node_id": node.id, "status": view.get("status"),
                     "start_ms": round((start - run_started_at) * 1000, 1),
                     "duration_ms": round(max(0.0, (end - start) * 1000), 1)})
    path = critical_path(spec, finished)
    on_path = set(path)
    for row in rows:
        row["critical"] = row["node_id"] in on_path
    rows.sort(key=lambda r: (r["start_ms"], r["node_id"]))
    summed = sum(row["duration_ms"] for row in rows)
    total = latency_ms if latency_ms is not None else max((r["start_ms"] + r["duration_ms"] for r in rows), default=0)
    return {"rows": rows, "critical_path": path, "total_ms": round(total, 1), "sum_ms": round(summed, 1),
            "saved_ms": round(max(0.0, summed - total), 1)}
