"""Sticky notes on the canvas: what the canvas shows of them, and their edits (each one undoable)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime import PipelineSpec

from .. import notes
from .editor import EditorState, follows_editor

__all__ = ["NotesState"]


@follows_editor
class NotesState(rx.State):
    notes: list[dict[str, Any]] = []  # [{key, id, x, y, w, h, text}]: see editor.notes.flow_notes

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        spec = editor.shown_spec()
        shown = notes.flow_notes(spec) if spec is not None else []
        if shown != self.notes:
            self.notes = shown

    @rx.event
    async def add_note(self, payload: dict):
        """A new note with its top-left corner at the payload's flow position (x, y)."""
        editor = await self.get_state(EditorState)
        x, y = float(payload.get("x", 0)), float(payload.get("y", 0))

        def insert(spec: PipelineSpec) -> tuple[PipelineSpec, list[str]]:
            spec, key = notes.add_note(spec, x, y)
            return spec, [key]

        return await editor._insert(insert)

    @rx.event
    async def change_note(self, payload: dict):
        """{key, text?, x?, y?, width?, height?}: a note's text was edited, or the note was resized."""
        editor = await self.get_state(EditorState)
        key = str(payload.get("key", ""))
        changes = {k: v for k, v in payload.items() if k != "key"}
        return await editor._edit(lambda s: notes.update_note(s, key, changes), keep_drafts=True)
