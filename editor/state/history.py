"""Run history of the open pipeline: the rows of the History tab (opening one is `RunState.open_run`)."""

from __future__ import annotations

import asyncio

import reflex as rx

from runtime.store.runs import list_runs

from .. import run_views as rv

__all__ = ["HistoryState", "HISTORY_LIMIT"]

HISTORY_LIMIT = 100


class HistoryState(rx.State):
    rows: list[rv.HistoryRow] = []
    loaded_for: str = ""  # the pipeline the rows belong to

    async def reload(self, pipeline_id: str) -> None:
        runs = await asyncio.to_thread(list_runs, pipeline_id, limit=HISTORY_LIMIT) if pipeline_id else []
        rows = [rv.history_row(r) for r in runs]
        if rows != self.rows:
            self.rows = rows
        self.loaded_for = pipeline_id
