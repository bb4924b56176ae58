"""Named versions of the open pipeline: save a snapshot under a name, restore one (undoable)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from runtime.store import pipelines as store

from ..graph import spec_to_dict
from . import node_ids
from .editor import EditorState

__all__ = ["VersionsState"]


class VersionsState(rx.State):
    open: bool = False
    versions: list[dict[str, Any]] = []
    label: str = ""

    async def _reload(self, pipeline_id: str) -> None:
        rows = await asyncio.to_thread(store.list_versions, pipeline_id)
        self.versions = [{"id": v.id, "label": v.label, "revision": v.revision, "nodes": len(v.spec.get("nodes") or []),
                          "created": v.created_at.strftime("%Y-%m-%d %H:%M UTC")} for v in rows]

    @rx.event
    async def open_dialog(self):
        editor = await self.get_state(EditorState)
        await self._reload(editor.pipeline_id)
        self.label, self.open = "", True

    @rx.event
    def set_open(self, value: bool):
        self.open = value

    @rx.event
    def set_label(self, text: str):
        self.label = text

    @rx.event
    async def save_version(self):
        editor = await self.get_state(EditorState)
        if editor._spec is None:
            return None
        label = self.label.strip()
        if not label:
            return rx.toast.error("Give the version a name, e.g. `before reranker`.")
        try:
            await asyncio.to_thread(store.save_version, editor.pipeline_id, label, spec_to_dict(editor._spec))
        except (ValueError, store.PipelineNotFound) as exc:
            return rx.toast.error(str(exc))
        await self._reload(editor.pipeline_id)
        self.label = ""
        return rx.toast.success(f"Saved version `{label}`.", duration=2500)

    @rx.event
    async def restore(self, version_id: int):
        try:
            version = await asyncio.to_thread(store.get_version, int(version_id))
        except store.PipelineNotFound as exc:
            return rx.toast.error(str(exc))
        self.open = False
        editor = await self.get_state(EditorState)
        before = editor._spec
        result = await editor.replace_spec(version.spec)
        await node_ids.replaced(editor, before)  # breakpoints on nodes the version has not go (Ctrl+Z brings them back)
        return [result, rx.toast.info(f"Restored `{version.label}` (Ctrl+Z undoes this).", duration=3000)]
