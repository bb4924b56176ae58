"""The statuses of the inner nodes of the subflow open on the canvas, while (and after) a run goes.

A second high-rate var beside `CanvasStatusState.node_status`, set only while a subflow is open: the run's
watcher (`RunState._apply`) calls `follow`, which reads the live run's folded inner statuses
(`runtime.live.LiveRun.inner_views`) for the flow node the breadcrumbs went through; opening or leaving a
subflow (`SubflowNavState._at` -> `open`) and showing an ended run (`RunState._show_ended` -> `shown`) do the
same, or, for a run this process no longer has (opened from History), fold its stored records the same way
(`editor.stored_inner`): one read when the subflow opens, none for a run whose subflows nobody opens. With no
subflow open it costs one comparison per snapshot. The canvas shows these only when `run` is the run the tab
shows (`editor.components.subflow_bar.canvas_status`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.live import live_runs

from ..flow_records import read_under
from ..run_views import compact_status
from ..stored_inner import records_prefix, stored_inner_canvas
from ..subflow_breakpoints import paused_at

__all__ = ["SubflowLiveState", "inner_canvas", "opened_flow", "opened_within"]


def opened_flow(above: str, node: str) -> str:
    """The flow path of the flow node `node` opened from the subflow of the flow node at `above` ("": top)."""
    return f"{above}/{node}" if above and node else node


def opened_within(prefix: str, within: str, node: str) -> str:
    """Which stored records the statuses inside the flow node `node` come from (`map1/2/m/`: item 2's), opened
    from a level that shows the item `prefix` of a run, or is itself inside one (`within`); "": all of them."""
    return f"{prefix}{node}/" if prefix and node else within


def inner_canvas(live: Any, flow: str) -> dict[str, dict[str, Any]]:
    """The canvas statuses of the nodes inside the flow node at `flow` (`map1`, `outer/m`) of a live run; an
    inner node waiting at a breakpoint (in any item) shows `paused`."""
    if live is None or not flow:
        return {}
    statuses = compact_status(live.inner_views(flow))
    for node_id in paused_at(live.paused, flow) if live.paused else ():
        statuses[node_id] = {"status": "paused"}
    return statuses


class SubflowLiveState(rx.State):
    run: str = ""  # the run `inner_status` is of
    inner_status: dict[str, dict[str, Any]] = {}  # {inner node id: compact status}, like `node_status`
    _run: str = ""  # the run followed last (the tab's watcher names it)
    _flow: str = ""  # the flow path of the open subflow ("": none, or an item of a stored run is shown)
    _within: str = ""  # opened inside an item of a stored run: only its records (`map1/2/m/`), "" for all

    async def open(self, flow: str, within: str = "") -> None:
        """The canvas opened the subflow of the flow node at `flow` ("": none, or an item of a run is shown)."""
        self._flow, self._within = flow, within if flow else ""
        await self._refresh()

    async def shown(self, run_id: str) -> None:
        """The tab shows the ended run `run_id` ("": none)."""
        self._run = run_id
        await self._refresh()

    async def _refresh(self) -> None:
        """Live while this process has the run (unless one ended item's part is asked for), else as stored."""
        live = live_runs().get(self._run) if self._run and self._flow else None
        if not self._flow or not self._run or (live is not None and not (self._within and live.done)):
            self.follow()
            return
        run_spec, records = await read_under(self._run, records_prefix(self._flow, self._within))
        self._show(stored_inner_canvas(records, self._flow, run_spec))

    def follow(self, *, run_id: str | None = None, flow: str | None = None) -> None:
        """The watcher saw `run_id` change, or the canvas opened the subflow of the flow node at `flow`."""
        if run_id is not None:
            self._run = run_id
        if flow is not None:
            self._flow = flow
        if not self._flow and not self.inner_status:
            return
        self._show(inner_canvas(live_runs().get(self._run) if self._run else None, self._flow))

    def _show(self, statuses: dict[str, dict[str, Any]]) -> None:
        if self.run != self._run:
            self.run = self._run
        if statuses != self.inner_status:
            self.inner_status = statuses
