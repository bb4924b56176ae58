"""What the browser is sent about runs: the run panel's fields, the canvas's node statuses, run summaries.

Pure functions of a spec, a live snapshot (`runtime.live.LiveRun.snapshot`) or stored records
(`runtime.store.runs.get_run`); no Reflex here. The node status map is the one high-rate var: keep
its entries small (it is re-sent whole at most ~25 times a second).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

from runtime import PipelineSpec
from runtime.builtins import coerce_input_text
from runtime.issues import InputProblem
from runtime.text import shorten

from .debugging import edited_note
from .statuses import TERMINAL_NODE_STATUSES

__all__ = ["TERMINAL", "InputField", "RunSummary", "HistoryRow", "input_fields", "input_texts", "parse_inputs",
           "compact_status", "stored_status", "stored_views", "summary_from_record", "input_preview", "history_row",
           "format_ms", "format_cost"]

TERMINAL = TERMINAL_NODE_STATUSES
_KINDS = {"string": "text", "number": "number", "integer": "integer", "boolean": "boolean", "json": "json"}


class InputField(TypedDict):
    """One field of the run bar (typed, so the page reads `field["name"]` as a string var, no casts)."""

    name: str
    node_id: str
    type: str
    kind: str  # the widget: text | number | integer | boolean | json
    required: bool
    placeholder: str
    description: str


class RunSummary(TypedDict, total=False):
    status: str
    latency: str
    latency_ms: float | None
    tokens: int
    cost: str
    node_sum: str
    error: str
    final_answer: str
    review_status: str
    reviewer: str
    started: str
    inputs: str
    edited: str  # "inputs edited at breakpoint (<nodes>)", or ""


class HistoryRow(TypedDict):
    id: str
    status: str
    started: str
    latency: str
    cost: str
    tokens: int
    inputs: str
    review: str
    source: str  # where the run came from: editor | cli | batch | serve | ... (any value is shown)
    edited: str  # "inputs edited at breakpoint (<nodes>)", or "" (`editor.debugging.edited_note`)


def input_fields(spec: PipelineSpec) -> list[InputField]:
    """One run-panel field per `io.input` node, in spec order: name, type, widget kind, default, help."""
    fields: list[InputField] = []
    for node in spec.nodes:
        if node.component != "io.input":
            continue
        params = node.params or {}
        kind = str(params.get("type") or "string")
        has_default = "default" in params
        default = params.get("default")
        fields.append(InputField(
            name=str(params.get("name") or node.id), node_id=node.id, type=kind, kind=_KINDS.get(kind, "text"),
            required=not has_default, placeholder="" if not has_default else f"default: {_text_of(default)}",
            description=str(params.get("description") or ""),
        ))
    return fields


def input_texts(inputs: Any) -> dict[str, str]:
    """A run's stored inputs as the run bar's field texts (the reverse of `parse_inputs`)."""
    if not isinstance(inputs, Mapping):
        return {}
    return {str(k): ("true" if v is True else "false" if v is False else _text_of(v)) for k, v in inputs.items()}


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_inputs(fields: Iterable[Mapping[str, Any]], values: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The typed run inputs from the panel's texts, or the problems (what, which field, how to fix).

    An empty field means "use the node's `default`"; without one it is a problem (a boolean is false).
    """
    inputs: dict[str, Any] = {}
    problems: list[str] = []
    for field in fields:
        name, kind, required = str(field["name"]), str(field["type"]), bool(field["required"])
        text = values.get(name, "")
        if text.strip() == "":
            if required and kind == "boolean":
                inputs[name] = False
            elif required:
                problems.append(f"Input `{name}` is required: {missing_input_hint(name)}")
            continue
        try:
            inputs[name] = coerce_input_text(kind, text)
        except ValueError as exc:
            problems.append(InputProblem.invalid(name, kind, text, str(exc)).message)
    return inputs, problems


def missing_input_hint(name: str) -> str:
    """How to give a required input in the run panel."""
    return "type a value in its field (or give its io.input node a `default`)."


def _entry(view: Mapping[str, Any]) -> dict[str, Any]:
    """A node's canvas entry: only what the node and its out-edges show."""
    entry: dict[str, Any] = {"status": view.get("status") or "queued"}
    if view.get("latency_ms") is not None and entry["status"] in TERMINAL:
        entry["latency_ms"] = round(float(view["latency_ms"]), 1)
    if entry["status"] == "running" and view.get("started_at"):
        entry["started_at"] = view["started_at"]
    if view.get("fired"):
        entry["fired"] = list(view["fired"])
    if view.get("cache_source"):
        entry["cache"] = view["cache_source"]
    if view.get("attempts", 0) and int(view["attempts"]) > 1:
        entry["attempts"] = int(view["attempts"])
    if view.get("progress"):  # a map node: [done, total, failed] items
        entry["progress"] = list(view["progress"])
    if view.get("loop"):  # a loop node: [iteration, max_iterations]
        entry["loop"] = list(view["loop"])
    if view.get("counts"):  # a node inside a map or loop: [in flight, done, failed] runs (runtime.flow.inner_status)
        entry["counts"] = list(view["counts"])
    return entry


def compact_status(nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The canvas's node status map from a live snapshot's `nodes`."""
    return {node_id: _entry(view) for node_id, view in nodes.items()}


def stored_views(nodes: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Live-snapshot-shaped node views of a stored run (NodeRecords), for the canvas and the timeline."""
    error_sources = {e["source"]["node"] for e in (spec or {}).get("edges", []) if e["source"]["port"] == "error"}
    bounds = _loop_bounds(spec)
    views = {}
    for node_id, record in nodes.items():
        if "/" in node_id:  # a node inside a flow node's item (`map1/3/summarise`): not on this canvas
            continue
        status = record.status
        outputs = record.outputs or {}
        if status in ("succeeded", "cached"):
            fired = sorted(outputs)
        elif status == "failed" and (record.error or {}).get("handled") and node_id in error_sources:
            fired = ["error"]
        else:
            fired = []
        views[node_id] = {
            "status": status, "latency_ms": record.latency_ms, "attempts": record.attempts, "fired": fired,
            "started_at": _epoch(record.started_at), "finished_at": _epoch(record.finished_at),
            "cache_source": _cache_source(record) if status == "cached" else None,
            "skip_reason": record.skip_reason, "progress": _map_progress(record),
            "loop": _loop_progress(record, bounds.get(node_id)),
        }
    return views


def _map_progress(record: Any) -> list[int] | None:
    """A map node's item counts as its record holds them (`trace["items"]`), else None."""
    items = (record.trace or {}).get("items")
    if not isinstance(items, dict) or "total" not in items:
        return None
    return [int(items.get("done", 0)), int(items["total"]), int(items.get("failed", 0))]


def _loop_bounds(spec: Mapping[str, Any] | None) -> dict[str, int]:
    """The `max_iterations` of each `flow.loop` node of a stored spec document."""
    return {str(n["id"]): int(n["params"]["max_iterations"]) for n in (spec or {}).get("nodes", [])
            if n.get("component") == "flow.loop" and isinstance((n.get("params") or {}).get("max_iterations"), int)}


def _loop_progress(record: Any, bound: int | None) -> list[int] | None:
    """A loop node's [iterations, max_iterations] as its record holds them (`trace["loop"]`), else None."""
    loop = (record.trace or {}).get("loop")
    if bound is None or not isinstance(loop, dict) or not isinstance(loop.get("iterations"), int):
        return None
    return [loop["iterations"], bound]


def _cache_source(record: Any) -> str:
    trace = record.trace or {}
    return str(trace.get("cache_source") or "cache")


def stored_status(nodes: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return compact_status(stored_views(nodes, spec))


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def format_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms < 1:
        return f"{ms:.1f} ms" if ms else "0 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "unknown"
    if cost == 0:
        return "$0"
    return f"${cost:.6f}".rstrip("0") if cost < 0.01 else f"${cost:.4f}"


def input_preview(inputs: Any, limit: int = 80) -> str:
    """One line: `query: What is …` for the history list."""
    if not isinstance(inputs, Mapping) or not inputs:
        return ""
    parts = [f"{k}: {v if isinstance(v, str) else _text_of(v)}" for k, v in inputs.items()]
    text = " · ".join(p.replace("\n", " ") for p in parts)
    return shorten(text, limit, "…")


def summary_from_record(run: Any) -> RunSummary:
    """The run summary's numbers from a stored RunRecord (status, latency, tokens, cost, review)."""
    review = run.review or {}
    error = run.error or {}
    return RunSummary(
        status=run.status, latency=format_ms(run.latency_ms), latency_ms=run.latency_ms,
        tokens=int(run.total_tokens or 0), cost=format_cost(run.cost_usd) if run.total_tokens else "—",
        node_sum=format_ms(run.node_latency_sum_ms),
        error=f"{error.get('type', 'Error')}: {error.get('message', '')}" if error else "",
        final_answer=run.final_answer or "", review_status=str(review.get("status") or ""),
        reviewer=str(review.get("reviewer") or ""), started=_when(run.started_at),
        inputs=input_preview(run.inputs, 200), edited=edited_note(run),
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def history_row(run: Any) -> HistoryRow:
    """One row of the run history list."""
    return HistoryRow(id=run.id, status=run.status, started=_when(run.started_at),
                      latency=format_ms(run.latency_ms) or "—",
                      cost=format_cost(run.cost_usd) if run.total_tokens else "—", tokens=int(run.total_tokens or 0),
                      inputs=input_preview(run.inputs), review=str((run.review or {}).get("status") or ""),
                      source=str(run.source or ""), edited=edited_note(run))
