"""The run panel: inputs, Run / Stop, and the live status of the run this tab shows.

A run belongs to the process (`runtime.live.live_runs()`), not to the tab: this state only keeps the
id of the run it shows (also in the page URL, `?run=<id>`, so a reload re-subscribes) and a
background watcher that forwards the run's coalesced snapshots (at most ~25 a second) into the
canvas's small `CanvasStatusState.node_status` var. Each tab has its own state, so runs never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import reflex as rx

from runtime import InvalidInputs, InvalidSpec, PipelineSpec, compile
from runtime.live import LiveRun, live_runs

from .. import run_views as rv
from ..catalog import registry
from . import run_data
from .canvas_status import CanvasStatusState
from .editor import EditorState

__all__ = ["RunState", "WATCH_INTERVAL_S"]

log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 0.04  # at most 25 canvas updates a second


class RunState(rx.State):
    fields: list[dict[str, Any]] = []  # one per io.input (editor.run_views.input_fields)
    values: dict[str, str] = {}  # what was typed, kept for the next run and a reload
    form_key: int = 0  # bumped when `values` are reloaded: the uncontrolled fields then remount
    run_id: str = ""
    status: str = "idle"  # idle | running | succeeded | failed | cancelled | interrupted
    problems: list[str] = []  # why nothing ran
    started_from: str = ""  # "Run from here" start node
    pins: dict[str, str] = {}  # node id -> where the pinned output came from (the canvas marks them)
    tab: str = "issues"  # the bottom panel's tab: issues | run | timeline | history
    pending_reviews: int = 0  # tasks waiting in the review inbox (the top bar shows the count)
    _seq: int = 0  # bumped whenever this tab shows another run: older watchers stand down

    # --- the panel ---------------------------------------------------------------------------
    def refresh_fields(self, spec: PipelineSpec | None) -> None:
        fields = rv.input_fields(spec) if spec is not None else []
        if fields != self.fields:
            self.fields = fields

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab
        if tab == "timeline":
            return RunState.refresh_timeline
        if tab == "history":
            return RunState.refresh_history
        return None

    @rx.event
    async def refresh_timeline(self):
        from .run_summary import RunSummaryState

        summary = await self.get_state(RunSummaryState)
        await summary.show_timeline(self.run_id)

    @rx.event
    async def refresh_history(self):
        from .history import HistoryState

        history = await self.get_state(HistoryState)
        await history.reload()

    # --- starting and stopping ---------------------------------------------------------------
    @rx.event
    async def run(self, form: dict):
        return await self._start(form, start=None)

    @rx.event
    async def run_from_here(self, node_id: str):
        return await self._start(None, start=node_id)

    async def _start(self, form: dict | None, *, start: str | None):
        editor = await self.get_state(EditorState)
        if editor._spec is None or editor.viewing_run:
            return rx.toast.error("This is an old run (read-only): press “Back to editing” first.")
        if self.status == "running":
            return rx.toast.info("A run is in progress: stop it first, or wait for it to finish.")
        if form is not None:
            self.values = {f["name"]: _form_text(form, f) for f in self.fields}
        inputs, problems = rv.parse_inputs(self.fields, self.values)
        spec = _unwrapped(editor._spec)  # the run outlives this handler: never hand it Reflex's state proxy
        try:
            plan = compile(spec, registry())
        except InvalidSpec as exc:
            problems = [_issue_text(i) for i in exc.issues if i.severity == "error"] + problems
            plan = None
        except Exception as exc:
            log.exception("compiling pipeline %s failed", editor.pipeline_id)
            problems = [f"The pipeline could not be prepared: {type(exc).__name__}: {exc}"] + problems
            plan = None
        if plan is None or problems:
            return self._refuse(problems)
        presets: dict[str, Any] = {}
        if self.pins or start is not None:  # no store round trip on the plain Run of an unpinned pipeline
            presets, problems = await run_data.presets(plan, editor.pipeline_id, inputs, start, self.run_id)
            if problems:
                return self._refuse(problems)
        try:
            live = live_runs().start(plan, inputs, pipeline_id=editor.pipeline_id, source="editor", **presets)
        except InvalidInputs as exc:
            return self._refuse(list(exc.problems))
        self.problems, self.started_from, self.tab = [], start or "", "run"
        return await self._show_live(live, editor, replace_url=True)

    def _refuse(self, problems: list[str]):
        self.problems = problems
        self.tab = "run"
        return rx.toast.error("Nothing ran: see the run panel for what to fix.", duration=4000)

    @rx.event
    def stop(self):
        live = live_runs().get(self.run_id)
        if live is not None and not live.done:
            live.cancel()

    # --- showing a run -------------------------------------------------------------------------
    async def _show_live(self, live: LiveRun, editor: EditorState, *, replace_url: bool):
        from .node_run import NodeRunState
        from .run_summary import RunSummaryState

        self._seq += 1
        if live.run_id != self.run_id:
            await (await self.get_state(RunSummaryState)).clear()
        self.run_id = live.run_id
        await (await self.get_state(NodeRunState)).refresh(editor.selected_nodes)
        snapshot = live.snapshot()
        self.status = snapshot["status"]
        (await self.get_state(CanvasStatusState)).show(rv.compact_status(snapshot["nodes"]))
        events: list[Any] = []
        if replace_url:
            events.append(rx.call_script(_url_script(editor.pipeline_id, live.run_id)))
        if live.done:
            events.append(RunState.finished(live.run_id, self._seq))
        else:
            events.append(RunState.watch(live.run_id, self._seq))
        return events

    @rx.event
    async def load(self):
        """on_load: the inputs of this pipeline, and the run to show (`?run=`, else one in flight)."""
        editor = await self.get_state(EditorState)
        self._seq += 1
        self.refresh_fields(editor._spec if not editor.load_error else None)
        self.form_key += 1
        self.problems, self.started_from = [], ""
        await run_data.refresh_pins(self, editor.pipeline_id)
        await self._refresh_lists()
        wanted = str(self.router.url.query_parameters.get("run", "") or "")
        live = live_runs().get(wanted) if wanted else None
        if live is None and not wanted:
            active = live_runs().active(editor.pipeline_id)
            live = active[-1] if active else None
        if live is not None and live.pipeline_id == editor.pipeline_id:
            return await self._show_live(live, editor, replace_url=not wanted)
        (await self.get_state(CanvasStatusState)).show({})
        self.run_id, self.status = "", "idle"
        from .node_run import NodeRunState
        from .run_summary import RunSummaryState

        await (await self.get_state(RunSummaryState)).clear()
        await (await self.get_state(NodeRunState)).refresh(editor.selected_nodes)
        if wanted:
            return RunState.finished(wanted, self._seq)
        return None

    @rx.event(background=True)
    async def watch(self, run_id: str, seq: int):
        """Forward the run's snapshots to the canvas until it ends (or this tab shows another run)."""
        live = live_runs().get(run_id)
        if live is None:
            return RunState.finished(run_id, seq)
        fetch: str | None = None
        async with contextlib.aclosing(live.watch(interval=WATCH_INTERVAL_S)) as snapshots:
            async for snapshot in snapshots:
                async with self:
                    if self._seq != seq:
                        return None
                    fetch = await self._apply(snapshot)
                if fetch:  # the selected node just finished: its full record, read off the lock
                    await run_data.fetch_selected(self, run_id, fetch, seq)
        return RunState.finished(run_id, seq)

    async def _apply(self, snapshot: dict[str, Any]) -> str | None:
        (await self.get_state(CanvasStatusState)).show(rv.compact_status(snapshot["nodes"]))
        if snapshot["status"] != self.status:
            self.status = snapshot["status"]
        from .node_run import NodeRunState

        return (await self.get_state(NodeRunState)).on_snapshot(snapshot)

    @rx.event
    async def finished(self, run_id: str, seq: int):
        """The run ended (or was opened after it ended): its stored record for the summary and timeline."""
        if seq != self._seq:
            return None
        record = await run_data.read_run(run_id)
        editor = await self.get_state(EditorState)
        from .run_summary import RunSummaryState

        summary = await self.get_state(RunSummaryState)
        if record is None:
            live = live_runs().get(run_id)
            if live is not None:  # not stored (recording off): what the process still knows
                self.run_id, self.status = run_id, live.status
                return None
            self.problems = [f"Run `{run_id}` was not found: it may have been deleted with its database."]
            return None
        run, nodes = record
        if run.pipeline_id != editor.pipeline_id and not editor.viewing_run:
            self.problems = [f"Run `{run_id}` belongs to another pipeline; open it from that pipeline's history."]
            return None
        self.run_id, self.status = run.id, run.status
        live = live_runs().get(run_id)  # while the process still has it, it knows more (e.g. reused vs cached)
        views = live.snapshot()["nodes"] if live is not None and live.done else rv.stored_views(nodes, run.spec)
        (await self.get_state(CanvasStatusState)).show(rv.compact_status(views))
        await summary.show_record(run, nodes)
        from .node_run import NodeRunState

        await (await self.get_state(NodeRunState)).refresh(editor.selected_nodes)
        await self._refresh_lists()
        return None

    async def _refresh_lists(self) -> None:
        """This pipeline's run history and the review inbox's count (a run may have asked for a review)."""
        from .history import HistoryState

        await (await self.get_state(HistoryState)).reload()
        count = await asyncio.to_thread(run_data.pending_reviews)
        if count != self.pending_reviews:
            self.pending_reviews = count


def _unwrapped(value: Any) -> Any:
    """Reflex wraps state values in a change-tracking proxy; the runtime gets the object itself."""
    return getattr(value, "__wrapped__", value)


def _form_text(form: dict, field: dict[str, Any]) -> str:
    value = form.get(f"in:{field['name']}", "")
    return value if isinstance(value, str) else json.dumps(value)


def _issue_text(issue: Any) -> str:
    where = f"`{issue.node_id}`{'.' + issue.port if issue.port else ''}: " if issue.node_id else ""
    return f"{where}{issue.message}{' ' + issue.hint if issue.hint else ''}"


def _url_script(pipeline_id: str, run_id: str) -> str:
    """Keep the shown run in the address bar (a reload re-subscribes to it) without a navigation."""
    url = json.dumps(f"/pipelines/{pipeline_id}?run={run_id}")
    # off the critical path: replaceState costs several ms of main thread, and the run is starting
    return f"setTimeout(() => window.history.replaceState(window.history.state, '', {url}), 100)"
