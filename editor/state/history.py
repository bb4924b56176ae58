"""Run history of the open pipeline: the rows of the History tab (opening one is `RunState.open_run`)."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime.store.runs import list_runs

from .. import run_views as rv
from .editor import EditorState

__all__ = ["HistoryState", "HISTORY_LIMIT"]

HISTORY_LIMIT = 100


class HistoryState(rx.State):
    rows: list[rv.HistoryRow] = []
    loaded_for: str = ""  # the pipeline the rows belong to

    async def reload(self, pipeline_id: str) -> None:
        """This pipeline's runs, and those of its spec started from the CLI, batch or serve (by spec name)."""
        editor = await self.get_state(EditorState)
        name = editor.pipeline_name if editor.pipeline_id == pipeline_id else None
        runs = await asyncio.to_thread(list_runs, pipeline_id, spec_name=name,
                                       limit=HISTORY_LIMIT) if pipeline_id else []
        rows = [rv.history_row(r) for r in runs]
        if rows != self.rows:
            self.rows = rows
        self.loaded_for = pipeline_id
