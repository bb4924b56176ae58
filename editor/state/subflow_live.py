"""The live statuses of the inner nodes of the subflow open on the canvas, while (and after) a run goes.

A second high-rate var beside `CanvasStatusState.node_status`, set only while a subflow is open: the run's
watcher (`RunState._apply`) and opening or leaving a subflow (`SubflowNavState._at`) call `follow`, which
reads the live run's folded inner statuses (`runtime.live.LiveRun.inner_views`) for the flow node the
breadcrumbs went through. With no subflow open it costs one comparison per snapshot. The canvas shows these
only when `run` is the run the tab shows (`editor.components.subflow_bar.canvas_status`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.live import live_runs

from ..run_views import compact_status
from ..subflow_breakpoints import paused_at

__all__ = ["SubflowLiveState", "inner_canvas", "opened_flow"]


def opened_flow(above: str, node: str) -> str:
    """The flow path of the flow node `node` opened from the subflow of the flow node at `above` ("": top)."""
    return f"{above}/{node}" if above and node else node


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

    def follow(self, *, run_id: str | None = None, flow: str | None = None) -> None:
        """The watcher saw `run_id` change, or the canvas opened the subflow of the flow node at `flow`."""
        if run_id is not None:
            self._run = run_id
        if flow is not None:
            self._flow = flow
        if not self._flow and not self.inner_status:
            return
        statuses = inner_canvas(live_runs().get(self._run) if self._run else None, self._flow)
        if self.run != self._run:
            self.run = self._run
        if statuses != self.inner_status:
            self.inner_status = statuses
