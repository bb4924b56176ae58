"""Run history of the open pipeline; opening an old run shows it read-only, exactly as it ran."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import reflex as rx
from pydantic import ValidationError

from runtime import PipelineSpec
from runtime.store.runs import list_runs

from .. import run_views as rv
from . import run_data
from .canvas_status import CanvasStatusState
from .editor import EditorState

__all__ = ["HistoryState", "HISTORY_LIMIT"]

HISTORY_LIMIT = 100


class HistoryState(rx.State):
    rows: list[dict[str, Any]] = []
    loaded_for: str = ""  # the pipeline the rows belong to

    async def reload(self) -> None:
        editor = await self.get_state(EditorState)
        pipeline_id = editor.pipeline_id
        runs = await asyncio.to_thread(list_runs, pipeline_id, limit=HISTORY_LIMIT) if pipeline_id else []
        rows = [rv.history_row(r) for r in runs]
        if rows != self.rows:
            self.rows = rows
        self.loaded_for = pipeline_id

    @rx.event
    async def open_run(self, run_id: str):
        """Show an old run on the canvas with its own spec and every node's data, read-only."""
        from .run import RunState
        from .run_summary import RunSummaryState

        record = await run_data.read_run(run_id)
        if record is None:
            return rx.toast.error(f"Run `{run_id}` is not in the history any more.")
        run, nodes = record
        try:
            spec = PipelineSpec.model_validate(run.spec)
        except ValidationError as exc:
            return rx.toast.error(f"Run `{run_id}` cannot be shown: its stored spec does not load in this version "
                                  f"({exc.errors(include_url=False)[0]['msg']}).")
        editor = await self.get_state(EditorState)
        run_state = await self.get_state(RunState)
        run_state._seq += 1  # a watcher of another run stands down
        run_state.run_id, run_state.status, run_state.problems, run_state.tab = run.id, run.status, [], "run"
        run_state.values = rv.input_texts(run.inputs)  # what was asked, in the run bar (to run it again)
        run_state.started_from = ""
        run_state.form_key += 1
        await editor.view_spec(spec, run.id, f"{run.status} run of {rv.summary_from_record(run)['started']}")
        (await self.get_state(CanvasStatusState)).show(rv.stored_status(nodes, run.spec))
        await (await self.get_state(RunSummaryState)).show_record(run, nodes)
        return rx.call_script(_url(editor.pipeline_id, run.id))

    @rx.event
    async def back_to_editing(self):
        from .node_run import NodeRunState
        from .run import RunState
        from .run_summary import RunSummaryState

        editor = await self.get_state(EditorState)
        await editor.stop_viewing()
        run_state = await self.get_state(RunState)
        run_state._seq += 1
        run_state.run_id, run_state.status, run_state.started_from = "", "idle", ""
        (await self.get_state(CanvasStatusState)).show({})
        await (await self.get_state(RunSummaryState)).clear()
        await (await self.get_state(NodeRunState)).refresh([])
        return rx.call_script(_url(editor.pipeline_id, ""))


def _url(pipeline_id: str, run_id: str) -> str:
    url = json.dumps(f"/pipelines/{pipeline_id}" + (f"?run={run_id}" if run_id else ""))
    return f"window.history.replaceState(window.history.state, '', {url})"
