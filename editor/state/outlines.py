"""Nodes outlined on the canvas: those a compared pipeline version changed, or whose outputs differ between two
compared runs. Its own small var, read only by the canvas (like the node statuses)."""

from __future__ import annotations

import reflex as rx

from .editor import EditorState, follows_editor

__all__ = ["OutlineState"]


@follows_editor
class OutlineState(rx.State):
    outlines: dict[str, str] = {}  # node id -> changed | added | differs
    source: str = ""  # what drew them: "baseline" (eval graph diff) | "runs" (two compared runs)
    _pipeline_id: str = ""

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """Another pipeline opened: its nodes are not the compared ones."""
        if editor.pipeline_id != self._pipeline_id:
            self._pipeline_id = editor.pipeline_id
            self.show({}, "")

    def show(self, outlines: dict[str, str], source: str) -> None:
        if outlines != self.outlines:
            self.outlines = outlines
        self.source = source if outlines else ""

    @rx.event
    def clear(self):
        self.show({}, "")
