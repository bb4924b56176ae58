"""The canvas's node statuses during and after a run: the one high-rate var of the editor.

It lives in a state of its own, read only by the canvas: an update (up to ~25 a second while a run is
in flight) then re-renders the canvas alone, not every component that reads the editor's state.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

__all__ = ["CanvasStatusState"]


class CanvasStatusState(rx.State):
    node_status: dict[str, dict[str, Any]] = {}  # editor.run_views.compact_status: {node id: {status, ...}}

    def show(self, statuses: dict[str, dict[str, Any]]) -> None:
        if statuses != self.node_status:
            self.node_status = statuses
