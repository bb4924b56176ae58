"""The statuses inside a flow node of a stored run (opened from History), folded like the live view's.

A run the editor's process no longer has (or never ran: `patchwire run`, a restart) keeps its inner nodes
as records under their paths (`map1/3/summarise`, `outer/0/lp/2/work`). Opening a flow node's subflow on
such a run feeds those records to the live view's own fold (`runtime.flow.inner_status.InnerStatuses`):
each record is one run of an inner node that started and ended, so the canvas reads the same as it did at
the end of the live run (a map's items folded per inner node with their counts, a nested loop's count).
Pure functions: no Reflex and no database here (`editor.flow_records` reads the records).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from runtime.flow.inner_status import FlowNode, InnerStatuses, loops_inside
from runtime.flow.scope import FLOW_IDS

from .run_views import compact_status

__all__ = ["record_path", "loop_bounds", "stored_inner_views", "stored_inner_canvas", "records_prefix"]

_UNENDED = ("queued", "running", "paused")  # records of an interrupted run: never ended
_TIMED = ("succeeded", "failed")  # the statuses whose records carry a latency the live fold takes


def record_path(node_id: str) -> list[Any]:
    """The `node_path` of a stored inner node (`map1/3/summarise` -> `["map1", 3, "summarise"]`)."""
    parts: list[Any] = node_id.split("/")
    for i in range(1, len(parts) - 1, 2):
        if parts[i].isdigit():
            parts[i] = int(parts[i])
    return parts


def records_prefix(flow: str, within: str = "") -> str:
    """The record ids to read for the flow node at `flow` (`outer/m`): all under its top-level flow node
    (`outer/`), or only those under `within` (one item's: `outer/2/m/`)."""
    return within or flow.split("/", 1)[0] + "/"


def loop_bounds(spec: Mapping[str, Any] | None) -> dict[str, int]:
    """The `max_iterations` of every loop node inside a flow node of a stored spec document, by flow path
    (`outer/lp`): `runtime.flow.inner_status.loops_inside` it, as `nested_loops` for a compiled plan."""
    subflows = (spec or {}).get("subflows") or {}

    def flow_nodes(level: tuple[Mapping[str, Any], frozenset[str]]) -> Iterator[FlowNode]:
        doc, through = level  # `through`: the subflows above, so a (refused) cycle is not walked for ever
        for node in doc.get("nodes", []):
            params = node.get("params") or {}
            name, bound = params.get("subflow"), params.get("max_iterations")
            if node.get("component") in FLOW_IDS and name in subflows and name not in through:
                yield (str(node["id"]), node["component"], bound if isinstance(bound, int) else None,
                       (subflows[name], through | {name}))

    return loops_inside((spec or {}, frozenset()), flow_nodes)


def _when(value: datetime | None) -> float:
    if value is None:
        return 0.0
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _fired(record: Any) -> tuple[str, ...]:
    if record.status in ("succeeded", "cached"):
        return tuple(record.outputs or {})
    return ("error",) if record.status == "failed" and (record.error or {}).get("handled") else ()


def stored_inner_views(records: Mapping[str, Any], flow: str, loops: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The inner nodes of the flow node at `flow` (`map1`, `outer/m`) as the live fold shows them at the end of
    a run, from the NodeRecords under it (any depth: a nested loop's count may come from its iterations)."""
    fold = InnerStatuses(None, dict(loops))
    runs = [(record_path(node_id), node_id, r) for node_id, r in records.items() if "/" in node_id]
    for path, node_id, record in sorted(runs, key=lambda run: _when(run[2].started_at)):
        if record.started_at is not None and record.status != "queued":  # one run of it began
            fold.started(node_id, path, _when(record.started_at), int(record.attempts or 1))
    for path, node_id, record in sorted(runs, key=lambda run: _when(run[2].finished_at)):
        if record.status in _UNENDED:
            continue
        timed = record.status in _TIMED
        fold.ended(node_id, path, record.status, record.latency_ms if timed else None,
                   int(record.attempts or 0) if timed else 0, _fired(record), record.trace if timed else None)
    return fold.views(flow, run_ended=True)


def stored_inner_canvas(records: Mapping[str, Any], flow: str, spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """The canvas statuses of the nodes inside the flow node at `flow` of a stored run (`spec`: its stored spec)."""
    return compact_status(stored_inner_views(records, flow, loop_bounds(spec)))
