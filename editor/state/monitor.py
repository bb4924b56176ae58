"""The Monitor tab (the open pipeline's runs over a window: charts and a node table), the canvas heat map, and
the network lines of the shown run (inspector and run summary).

The numbers come from the run history (`runtime.store.stats`), read off the event loop and only when they are
looked at: the tab is open, or the heat map is on. The heat map lives in a state of its own (`HeatState`), read
only by the canvas, so refreshing the Monitor tab's charts never re-renders the canvas.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from runtime.store.recorder import RunRecorder
from runtime.store.stats import PipelineStats, run_series, run_stats, spec_version

from .. import monitor_views as mv
from .editor import EditorState

__all__ = ["MonitorState", "HeatState", "NetworkState", "WINDOW_OPTIONS"]

WINDOW_OPTIONS = [(key, label) for key, (label, _, _) in mv.WINDOWS.items()]


class HeatState(rx.State):
    """The canvas prop: {node id: {label, color, value}} while the heat map is on, else {}."""

    heat: dict[str, dict[str, Any]] = {}

    def show(self, heat: dict[str, dict[str, Any]]) -> None:
        if heat != self.heat:
            self.heat = heat


class NetworkState(rx.State):
    """The shown run's outbound calls: a line per node that made any (inspector), one for the run (summary)."""

    run_id: str = ""
    nodes: dict[str, str] = {}
    summary: str = ""

    def show(self, run: Any) -> None:
        self.run_id, self.nodes = run.id, mv.network_lines(run.egress)
        self.summary = mv.run_network_line(run.egress) if run.egress is not None else ""

    def clear(self) -> None:
        if self.run_id or self.nodes or self.summary:
            self.run_id, self.nodes, self.summary = "", {}, ""


def _read(pipeline_id: str, name: str, window: str, version: str) -> tuple[list[PipelineStats], list[Any],
                                                                         list[PipelineStats]]:
    RunRecorder().flush(5.0)  # the runs that just ended are in the database
    since = mv.window_of(window)
    common = {"pipeline": name or None, "pipeline_id": pipeline_id, "since": since}
    stats = run_stats(**common, version=version or None)
    series = run_series(**common, version=version or None, buckets=mv.buckets_of(window))
    versions = run_stats(**common, by_version=True)
    return stats, series, versions


def _merged(rows: list[PipelineStats]) -> PipelineStats | None:
    """The saved pipeline's runs come back as one row; its spec renamed since gives a second: show the first."""
    return max(rows, key=lambda row: row.runs) if rows else None


class MonitorState(rx.State):
    window: str = "24h"
    version: str = ""  # one spec version (`runtime.store.stats.spec_version`), "" for all of them
    versions: list[dict[str, str]] = []  # [{value, label}] of the versions that ran in the window
    totals: mv.Totals = mv.totals(None)
    series: list[dict[str, Any]] = []
    node_rows: list[mv.NodeRow] = []
    heat_on: bool = False
    heat_metric: str = "latency"  # latency (p95) | cost (per run)
    loaded_for: str = ""  # the pipeline the numbers are of ("" before the first look)
    _nodes: dict[str, Any] = {}

    @rx.event
    async def refresh(self):
        await self._refresh()

    async def _refresh(self) -> None:
        editor = await self.get_state(EditorState)
        if not editor.pipeline_id:
            return
        if editor.pipeline_id != self.loaded_for:
            self.version = ""
        stats, series, versions = await asyncio.to_thread(_read, editor.pipeline_id, editor.pipeline_name,
                                                          self.window, self.version)
        row = _merged(stats)
        self.loaded_for = editor.pipeline_id
        self.totals, self.series = mv.totals(row), mv.chart_rows(series)
        self._nodes = row.nodes if row is not None else {}
        order = [n.id for n in editor._spec.nodes] if editor._spec is not None else []
        self.node_rows = mv.node_rows(self._nodes, order)
        current = spec_version(editor._spec.model_dump(mode="json")) if editor._spec is not None else ""
        self.versions = [{"value": v.version or "", "label": _version_label(v, current)}
                         for v in reversed(versions) if v.version]
        await self._show_heat()

    async def _show_heat(self) -> None:
        heat = mv.heat_map(self._nodes, "cost" if self.heat_metric == "cost" else "latency") if self.heat_on else {}
        (await self.get_state(HeatState)).show(heat)

    @rx.event
    async def set_window(self, window: str):
        self.window = window if window in mv.WINDOWS else "24h"
        return MonitorState.refresh

    @rx.event
    async def set_version(self, version: str):
        self.version = version
        return MonitorState.refresh

    @rx.event
    async def toggle_heat(self):
        self.heat_on = not self.heat_on
        if self.heat_on:
            return MonitorState.refresh
        await self._show_heat()
        return None

    @rx.event
    async def set_heat_metric(self, metric: str):
        self.heat_metric = "cost" if metric == "cost" else "latency"
        await self._show_heat()

    async def runs_changed(self, pipeline_id: str, *, shown: bool) -> None:
        """A run ended or the page (re)loaded: newer numbers, if anything shows them (`shown`: the tab is open)."""
        if pipeline_id != self.loaded_for and self.loaded_for:
            self.loaded_for, self.series, self.node_rows, self._nodes = "", [], [], {}
            self.totals, self.versions = mv.totals(None), []
            await self._show_heat()
        if self.heat_on or shown:
            await self._refresh()


def _version_label(row: PipelineStats, current: str) -> str:
    this = " (this version)" if row.version == current else ""
    return f"{row.version}{this}: {row.runs} run{'s' * (row.runs != 1)}"
