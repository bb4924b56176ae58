"""What a run did inside a flow node: its items (a map) or iterations (a loop), from the stored node records.

A node inside a flow node's sub-run is stored under its path, `map1/3/summarise` (flow node, item index,
inner node; longer when flows nest). These pure functions group such records by item, sum each item up
for the inspector's list and the timeline, and give the canvas the statuses of one item's inner nodes.
No Reflex and no database here (`editor.flow_records` reads the records).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

from runtime.text import shorten

from .run_views import compact_status, format_ms, stored_views

__all__ = ["ItemRow", "by_item", "item_rows", "item_status", "item_canvas", "nest_timeline", "children",
           "ITEM_ROWS_LIMIT", "TIMELINE_ITEMS_LIMIT"]

ITEM_ROWS_LIMIT = 200  # items listed in the inspector (a 10,000-item map: the first 200, and how many more)
TIMELINE_ITEMS_LIMIT = 50  # item rows under one flow node in the timeline


class ItemRow(TypedDict):
    index: int
    label: str  # "item 2" | "iteration 3"
    status: str
    latency: str
    preview: str  # the item's outputs (or its error), one line
    testid: str  # map-item-<node>-<index> | loop-iteration-<node>-<n> (n counts from 1)


def children(records: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The records directly under `prefix` (`map1/3/`), by inner node id (deeper flows left out)."""
    cut = len(prefix)
    return {node_id[cut:]: r for node_id, r in records.items()
            if node_id.startswith(prefix) and "/" not in node_id[cut:]}


def by_item(records: Mapping[str, Any], flow_path: str) -> dict[int, dict[str, Any]]:
    """The records inside the flow node at `flow_path` (`map1`), by item index, each {inner node id: record}."""
    prefix = flow_path + "/"
    items: dict[int, dict[str, Any]] = {}
    for node_id, record in records.items():
        if not node_id.startswith(prefix):
            continue
        index, _, inner = node_id[len(prefix):].partition("/")
        if index.isdigit() and inner and "/" not in inner:
            items.setdefault(int(index), {})[inner] = record
    return dict(sorted(items.items()))


def item_status(records: Mapping[str, Any]) -> str:
    """One item's status: failed if an inner node failed unhandled, else running, cancelled, or succeeded."""
    statuses = [(r.status, bool((r.error or {}).get("handled"))) for r in records.values()]
    if any(s == "failed" and not handled for s, handled in statuses):
        return "failed"
    for status in ("running", "queued", "cancelled"):
        if any(s == status for s, _ in statuses):
            return "running" if status == "queued" else status
    return "succeeded"


def _span_ms(records: Mapping[str, Any]) -> float | None:
    starts = [r.started_at for r in records.values() if r.started_at is not None]
    ends = [r.finished_at for r in records.values() if r.finished_at is not None]
    if not starts or not ends:
        return None
    return max(0.0, (max(ends) - min(starts)).total_seconds() * 1000)


def _preview(records: Mapping[str, Any], output_ids: list[str]) -> str:
    failed = next((r for r in records.values() if r.status == "failed" and not (r.error or {}).get("handled")), None)
    if failed is not None:
        error = failed.error or {}
        return shorten(f"{failed.node_id.rsplit('/', 1)[-1]}: {error.get('type', 'Error')}: {error.get('message', '')}",
                       160, "…")
    values = {o: (records[o].outputs or {}).get("value") for o in output_ids if o in records}
    parts = [v if isinstance(v, str) else json.dumps(v, default=str) for v in values.values()]
    text = parts[0] if len(parts) == 1 else " · ".join(f"{k}: {p}" for k, p in zip(values, parts, strict=True))
    return shorten(text.replace("\n", " "), 160, "…")


def item_rows(node_id: str, component: str, items: Mapping[int, Mapping[str, Any]], output_ids: list[str],
              limit: int = ITEM_ROWS_LIMIT) -> list[ItemRow]:
    """The inspector's list for the flow node `node_id` (its canvas id): one row per item or iteration."""
    loop = component == "flow.loop"
    rows = []
    for index, records in list(items.items())[:limit]:
        n = index + 1 if loop else index
        rows.append(ItemRow(index=index, label=f"iteration {n}" if loop else f"item {index}",
                            status=item_status(records), latency=format_ms(_span_ms(records)),
                            preview=_preview(records, output_ids),
                            testid=f"loop-iteration-{node_id}-{n}" if loop else f"map-item-{node_id}-{index}"))
    return rows


def item_canvas(records: Mapping[str, Any], prefix: str, subflow: Mapping[str, Any] | None) -> dict[str, Any]:
    """The canvas statuses of one item's inner nodes (`prefix`: `map1/2/`), keyed by their ids in the subflow."""
    return compact_status(stored_views(children(records, prefix), subflow))


def nest_timeline(timeline: dict[str, Any], records: Mapping[str, Any], flow_nodes: Mapping[str, str],
                  run_started_at: float) -> dict[str, Any]:
    """`timeline` (`runtime.timeline.build_timeline`) with each flow node's items as rows right under it.

    `flow_nodes`: the run's flow node ids -> component. Item rows have `depth` 1 and `node_id` `map1/3`.
    """
    rows = []
    for row in timeline["rows"]:
        rows.append({**row, "depth": 0, "label": row["node_id"]})
        component = flow_nodes.get(row["node_id"])
        if component is None:
            continue
        for index, inner in list(by_item(records, row["node_id"]).items())[:TIMELINE_ITEMS_LIMIT]:
            starts = [r.started_at.timestamp() if r.started_at.tzinfo else _utc(r.started_at)
                      for r in inner.values() if r.started_at is not None]
            span = _span_ms(inner)
            if not starts or span is None:
                continue
            label = f"iteration {index + 1}" if component == "flow.loop" else f"item {index}"
            rows.append({"node_id": f"{row['node_id']}/{index}", "status": item_status(inner), "critical": False,
                         "start_ms": round((min(starts) - run_started_at) * 1000, 1), "duration_ms": round(span, 1),
                         "depth": 1, "label": label})
    return {**timeline, "rows": rows}


def _utc(value: Any) -> float:
    from datetime import UTC

    return value.replace(tzinfo=UTC).timestamp()
