"""The open pipeline's breakpoints: the canvas marks them (a red dot), F9 or a click toggles them, and a
run started from the editor pauses before them (`editor.debugging.debugger_for`).

A breakpoint on a node of an open subflow is stored under its path (`map1/work`: `editor.subflow_breakpoints`)
beside the pipeline's own; the canvas's `breakpoints` prop holds only those of the level it shows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from .. import breakpoints as store
from ..debugging import debugger_for, toggled
from ..subflow_breakpoints import shown_at, stored_id
from .debug import DebugState
from .editor import EditorState, follows_editor
from .node_ids import NodeIdChange, follow_stored, follows_node_ids
from .subflow_nav import SubflowNavState

__all__ = ["BreakpointsState"]


@follows_node_ids
@follows_editor
class BreakpointsState(rx.State):
    breakpoints: dict[str, bool] = {}  # {node id at the level shown: True}: the canvas's `breakpoints` prop
    _ids: list[str] = []  # every breakpoint of the pipeline: node ids and paths into flow nodes
    _flow: str = ""  # the flow path of the level shown ("": the pipeline itself)

    async def reload(self, pipeline_id: str) -> None:
        ids = await asyncio.to_thread(store.list_breakpoints, pipeline_id) if pipeline_id else []
        self._take(ids)

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """A subflow opened or closed: show the dots of its level."""
        flow = (await self.get_state(SubflowNavState)).breakpoint_flow()
        if flow != self._flow:
            self._flow = flow
            self._take(self._ids)

    @rx.event
    async def set_item_only(self, on: bool):
        """The switch over a subflow showing an item of a run: breakpoints set here pause in that item only."""
        nav = await self.get_state(SubflowNavState)
        nav.break_in_item = bool(on) and bool(nav.item_prefix)
        self._flow = nav.breakpoint_flow()
        self._take(self._ids)

    def _take(self, ids: list[str]) -> None:
        self._ids = list(ids)
        breakpoints = shown_at(ids, self._flow)
        if breakpoints != self.breakpoints:
            self.breakpoints = breakpoints

    async def _follow_node_ids(self, change: NodeIdChange) -> None:
        """Nodes renamed, deleted, grouped or ungrouped, or such an edit undone or redone: the breakpoints on them, and
        inside them for a flow node, move, go, or come back."""
        ids = await asyncio.to_thread(_follow, change)
        if ids is not None:
            self._take(ids)
            (await self.get_state(DebugState)).breakpoints_changed(list(self._ids))

    def debugger_for(self, plan: Any) -> Any:
        """The debugger for a run of `plan` started now (None without breakpoints)."""
        return debugger_for(self._ids, plan)

    @rx.event
    async def toggle(self, payload: dict):
        """From the canvas: `{"nodes": [ids]}` (a click on a node's dot, or F9 on the selection), ids of the level
        shown."""
        editor = await self.get_state(EditorState)
        if editor.viewing_run:
            return rx.toast.info("Breakpoints belong to the pipeline being edited: press “Back to editing” first.")
        spec = editor.shown_spec()
        flow = (await self.get_state(SubflowNavState)).breakpoint_flow()
        if editor._scope and not flow:  # not reached through a flow node: no path names its nodes
            return rx.toast.info("Open this subflow from its flow node (double-click it) to set breakpoints in it.")
        shown = [str(n) for n in payload.get("nodes") or [] if spec is not None and spec.node(str(n)) is not None]
        if not shown:
            return rx.toast.info("Select a node first: F9 toggles the breakpoint of the selected node.")
        ids = [stored_id(flow, node_id) for node_id in shown]
        on = toggled(self._ids, ids)
        self._flow = flow
        self._take(await asyncio.to_thread(store.set_breakpoints, editor.pipeline_id, ids, on))
        (await self.get_state(DebugState)).breakpoints_changed(list(self._ids))
        return None


_DROPPED = "breakpoints"  # the key of an undo step's notes under which the breakpoints it deleted are kept


def _follow(change: NodeIdChange) -> list[str] | None:
    """The pipeline's breakpoints after `change` (None: it touched none of them)."""
    followed = follow_stored(change, store.follow_breakpoints, _DROPPED)
    return followed.ids if followed.changed else None
