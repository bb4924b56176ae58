"""The pipelines list page (open, rename, duplicate, delete) and `/` (open the most recent pipeline)."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from runtime.store import pipelines as store

from .. import breakpoints, pins, routes
from ..graph import new_spec, spec_to_dict

__all__ = ["PipelinesState", "IndexState", "open_recent_or_new"]


def open_recent_or_new() -> store.PipelineRecord:
    """The most recently edited pipeline, or a new empty one on first start."""
    return store.most_recent_pipeline() or store.create_pipeline(spec_to_dict(new_spec()))


class IndexState(rx.State):
    @rx.event
    async def open_recent(self):
        record = await asyncio.to_thread(open_recent_or_new)
        return rx.redirect(routes.pipeline(record.id), replace=True)


def _row(summary: store.PipelineSummary) -> dict[str, Any]:
    return {"id": summary.id, "name": summary.name, "nodes": summary.node_count, "revision": summary.revision,
            "updated": summary.updated_at.strftime("%Y-%m-%d %H:%M UTC")}


class PipelinesState(rx.State):
    rows: list[dict[str, Any]] = []
    loaded: bool = False
    renaming: str = ""
    rename_text: str = ""
    deleting: str = ""

    @rx.event
    async def load(self):
        self.rows = [_row(s) for s in await asyncio.to_thread(store.list_pipelines)]
        self.renaming = self.deleting = ""
        self.loaded = True

    @rx.event
    def start_rename(self, pipeline_id: str, name: str):
        self.renaming, self.rename_text, self.deleting = pipeline_id, name, ""

    @rx.event
    def set_rename_text(self, text: str):
        self.rename_text = text

    @rx.event
    def cancel(self):
        self.renaming = self.deleting = ""

    @rx.event
    async def finish_rename(self):
        try:
            await asyncio.to_thread(store.rename_pipeline, self.renaming, self.rename_text)
        except (ValueError, store.PipelineNotFound) as exc:
            return rx.toast.error(str(exc))
        return await self.load()

    @rx.event
    async def duplicate(self, pipeline_id: str):
        try:
            record = await asyncio.to_thread(store.duplicate_pipeline, pipeline_id)
        except store.PipelineNotFound as exc:
            return rx.toast.error(str(exc))
        await self.load()
        return rx.toast.success(f"Created `{record.name}`.", duration=2500)

    @rx.event
    def ask_delete(self, pipeline_id: str):
        self.deleting, self.renaming = pipeline_id, ""

    @rx.event
    async def confirm_delete(self):
        pipeline_id, self.deleting = self.deleting, ""
        try:
            await asyncio.to_thread(store.delete_pipeline, pipeline_id)
        except store.PipelineNotFound as exc:
            return rx.toast.error(str(exc))
        await asyncio.to_thread(pins.remove_pins, pipeline_id)
        await asyncio.to_thread(breakpoints.remove_breakpoints, pipeline_id)
        return await self.load()
