"""The open pipeline's breakpoints: the canvas marks them (a red dot), F9 or a click toggles them, and a
run started from the editor pauses before them (`editor.debugging.debugger_for`)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from .. import breakpoints as store
from ..debugging import debugger_for, toggled
from .debug import DebugState
from .editor import EditorState

__all__ = ["BreakpointsState"]


class BreakpointsState(rx.State):
    breakpoints: dict[str, bool] = {}  # {node id: True}: the canvas's `breakpoints` prop

    async def reload(self, pipeline_id: str) -> None:
        ids = await asyncio.to_thread(store.list_breakpoints, pipeline_id) if pipeline_id else []
        self._take(ids)

    def _take(self, ids: list[str]) -> None:
        breakpoints = dict.fromkeys(ids, True)
        if breakpoints != self.breakpoints:
            self.breakpoints = breakpoints

    def debugger_for(self, plan: Any) -> Any:
        """The debugger for a run of `plan` started now (None without breakpoints)."""
        return debugger_for(self.breakpoints, plan)

    @rx.event
    async def toggle(self, payload: dict):
        """From the canvas: `{"nodes": [ids]}` (a click on a node's dot, or F9 on the selection)."""
        editor = await self.get_state(EditorState)
        if editor.viewing_run:
            return rx.toast.info("Breakpoints belong to the pipeline being edited: press “Back to editing” first.")
        spec = editor._spec
        ids = [str(n) for n in payload.get("nodes") or [] if spec is not None and spec.node(str(n)) is not None]
        if not ids:
            return rx.toast.info("Select a node first: F9 toggles the breakpoint of the selected node.")
        on = toggled(self.breakpoints, ids)
        self._take(await asyncio.to_thread(store.set_breakpoints, editor.pipeline_id, ids, on))
        (await self.get_state(DebugState)).breakpoints_changed(list(self.breakpoints))
        return None
