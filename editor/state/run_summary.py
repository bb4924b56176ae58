"""The run summary (status, latency, tokens, cost, outputs, final answer) and the run's timeline (Gantt)."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any, TypedDict

import reflex as rx

from runtime import PipelineSpec
from runtime.flow import FLOW_IDS
from runtime.live import live_runs
from runtime.store.reviews import list_reviews
from runtime.timeline import build_timeline

from .. import run_views as rv
from ..flow_runs import nest_timeline
from ..node_details import bounded
from . import run_data
from .monitor import NetworkState

__all__ = ["RunSummaryState", "gantt", "GanttRow", "Timeline", "RunOutput"]


class GanttRow(TypedDict):
    node_id: str  # an item of a flow node: `map1/3`
    label: str
    depth: int  # 1: an item or iteration, listed under its flow node
    status: str
    critical: bool
    left: str  # CSS: where the bar starts, in % of the run's total latency
    width: str
    start: str
    duration: str


class Timeline(TypedDict, total=False):
    rows: list[GanttRow]
    total: str
    sum: str
    saved: str
    path: str  # the critical path, "a → b → c"
    speedup: str


class RunOutput(TypedDict):
    name: str
    value: Any  # bounded for the browser (editor.node_details.bounded)


def gantt(timeline: dict[str, Any]) -> Timeline:
    """Rows placed on a 0..100 % scale of the run's total latency, plus the headline numbers."""
    total = max(float(timeline["total_ms"] or 0), max((r["start_ms"] + r["duration_ms"] for r in timeline["rows"]),
                                                      default=0.0), 1.0)
    rows = [GanttRow(node_id=r["node_id"], label=r.get("label", r["node_id"]), depth=int(r.get("depth", 0)),
                     status=r["status"] or "", critical=bool(r["critical"]),
                     left=f"{min(100.0, max(0.0, r['start_ms'] / total * 100)):.2f}%",
                     width=f"{max(0.4, r['duration_ms'] / total * 100):.2f}%",
                     start=rv.format_ms(r["start_ms"]), duration=rv.format_ms(r["duration_ms"]))
            for r in timeline["rows"]]
    return Timeline(rows=rows, total=rv.format_ms(timeline["total_ms"]), sum=rv.format_ms(timeline["sum_ms"]),
                    saved=rv.format_ms(timeline["saved_ms"]), path=" → ".join(timeline["critical_path"]),
                    speedup=f"{timeline['sum_ms'] / timeline['total_ms']:.2f}×" if timeline["total_ms"] else "")


class RunSummaryState(rx.State):
    summary: rv.RunSummary = {}
    outputs: list[RunOutput] = []
    review_task: str = ""  # a pending review this run asked for
    timeline: Timeline = {}

    async def clear(self) -> None:
        self.summary, self.outputs, self.review_task, self.timeline = {}, [], "", {}
        (await self.get_state(NetworkState)).clear()

    async def show_record(self, run: Any, nodes: dict[str, Any]) -> None:
        self.summary = rv.summary_from_record(run)
        (await self.get_state(NetworkState)).show(run)
        self.outputs = [RunOutput(name=name, value=bounded(value)[0]) for name, value in (run.outputs or {}).items()]
        self.review_task = ""
        if not run.final_answer and not run.review:
            pending = await asyncio.to_thread(list_reviews, "pending", run_id=run.id)
            self.review_task = pending[0].id if pending else ""
        try:
            spec = PipelineSpec.model_validate(run.spec)
        except Exception:  # noqa: BLE001 - an old spec this version cannot read: no timeline
            self.timeline = {}
            return
        views = rv.stored_views(nodes, run.spec)
        started = run.started_at.timestamp() if run.started_at.tzinfo else _utc(run.started_at)
        flow_nodes = {n.id: n.component for n in spec.nodes if n.component in FLOW_IDS}
        timeline = build_timeline(spec, views, started, run.latency_ms)
        self.timeline = gantt(nest_timeline(timeline, nodes, flow_nodes, started) if flow_nodes else timeline)

    async def show_timeline(self, run_id: str) -> None:
        """The timeline so far of a run still in flight (a finished one has it from its record)."""
        live = live_runs().get(run_id) if run_id else None
        if live is None or live.done:
            if run_id and not self.timeline:
                record = await run_data.read_run(run_id)
                if record is not None:
                    await self.show_record(*record)
            return
        snapshot = live.snapshot()
        self.timeline = gantt(build_timeline(live.execution.plan.spec, snapshot["nodes"], snapshot["started_at"],
                                             None))


def _utc(value: Any) -> float:
    return value.replace(tzinfo=UTC).timestamp()
