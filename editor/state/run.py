"""The run panel: inputs, Run / Stop, and the run this tab shows (live, or as stored).

A run belongs to the process (`runtime.live.live_runs()`), not to the tab: this state only keeps the
id of the run it shows (also in the page URL, `?run=<id>`, so a reload re-subscribes) and a
background watcher that forwards the run's coalesced snapshots (at most ~25 a second) into the
canvas's small `CanvasStatusState.node_status` var. Each tab has its own state, so runs never mix.

Every way of showing a run goes through `show` / `clear`: started here, opened from the history,
`?run=` after a reload or a review decision, back to editing. The decisions are `editor.shown_run`'s
(plain Python); this state applies them to the summary, the canvas and the inspector's run section.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import reflex as rx
from pydantic import ValidationError

from runtime import InvalidInputs, InvalidSpec, PipelineSpec, compile
from runtime.live import LiveRun, live_runs

from .. import routes
from .. import run_views as rv
from ..catalog import registry
from ..shown_run import RunView, StoredRun, run_to_load, source_of
from ..statuses import IDLE
from . import run_data
from .breakpoints import BreakpointsState
from .canvas_status import CanvasStatusState
from .debug import DebugState
from .editor import EditorState, follows_editor
from .history import HistoryState
from .monitor import MonitorState
from .node_run import NodeRunState
from .pins import PinsState
from .run_summary import RunSummaryState
from .subflow_live import SubflowLiveState

__all__ = ["RunState", "WATCH_INTERVAL_S"]

log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 0.04  # at most 25 canvas updates a second
Record = tuple[Any, dict[str, Any]]  # (RunRecord, {node id: NodeRecord}) from `run_data.read_run`


@follows_editor
class RunState(rx.State):
    fields: list[rv.InputField] = []  # one per io.input (editor.run_views.input_fields)
    values: dict[str, str] = {}  # what was typed, kept for the next run and a reload
    form_key: int = 0  # bumped when `values` are reloaded: the uncontrolled fields then remount
    run_id: str = ""  # the shown run (see `editor.shown_run.RunView` for these four)
    status: str = IDLE
    problems: list[str] = []
    started_from: str = ""
    tab: str = "issues"  # the bottom panel's tab: issues | run | timeline | history | monitor
    pending_reviews: int = 0  # tasks waiting in the review inbox (the top bar shows the count)
    _seq: int = 0

    # --- the view ------------------------------------------------------------------------------
    def _view(self) -> RunView:
        return RunView(self.run_id, self.status, self._seq, tuple(self.problems), self.started_from)

    def _set_view(self, view: RunView) -> None:
        """Take `view` (set only the vars that changed: Reflex sends every var that was set)."""
        for name, value in (("run_id", view.run_id), ("status", view.status), ("problems", list(view.problems)),
                            ("started_from", view.started_from)):
            if getattr(self, name) != value:
                setattr(self, name, value)
        self._seq = view.seq

    async def _take(self, view: RunView, editor: EditorState) -> None:
        """Show `view`: the summary forgets another run, the inspector's run section follows."""
        if view.run_id != self.run_id:
            await (await self.get_state(RunSummaryState)).clear()
            (await self.get_state(DebugState)).clear()
        self._set_view(view)
        await (await self.get_state(NodeRunState)).refresh(editor.selected_nodes, run_id=view.run_id)

    # --- the panel ---------------------------------------------------------------------------
    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        if not editor.viewing_run:
            self.refresh_fields(editor._spec)

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
        if tab == "monitor":
            return MonitorState.refresh
        return None

    @rx.event
    async def refresh_timeline(self):
        await (await self.get_state(RunSummaryState)).show_timeline(self.run_id)

    @rx.event
    async def refresh_history(self):
        editor = await self.get_state(EditorState)
        await (await self.get_state(HistoryState)).reload(editor.pipeline_id)

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
        # the table, not this tab's copy: another tab may have pinned since (read once, for the canvas and the run)
        pins = await (await self.get_state(PinsState)).reload(editor.pipeline_id)
        if pins or start is not None:
            presets, problems = await run_data.presets(plan, editor.pipeline_id, inputs, start, self.run_id, pins=pins)
            if problems:
                return self._refuse(problems)
        try:
            live = live_runs().start(plan, inputs, pipeline_id=editor.pipeline_id, source="editor", **presets,
                                     debugger=(await self.get_state(BreakpointsState)).debugger_for(plan))
        except InvalidInputs as exc:
            return self._refuse(exc.texts(rv.missing_input_hint))
        self.tab = "run"
        return await self.show(live.run_id, started_from=start or "", replace_url=True)

    def _refuse(self, problems: list[str]):
        self._set_view(self._view().refuse(problems))
        self.tab = "run"
        return rx.toast.error("Nothing ran: see the run panel for what to fix.", duration=4000)

    @rx.event
    def stop(self):
        live = live_runs().get(self.run_id)
        if live is not None and not live.done:
            live.cancel()

    # --- showing a run -------------------------------------------------------------------------
    async def show(self, run_id: str, *, started_from: str = "", replace_url: bool = False,
                   record: Record | None = None) -> list[Any]:
        """The one way this tab shows a run: followed live while this process runs it, else as it ended.

        `record`: the run's stored record, when the caller has just read it.
        """
        editor = await self.get_state(EditorState)
        live = live_runs().get(run_id)
        source = source_of(live.pipeline_id if live else None, known=live is not None,
                           done=live.done if live else True, pipeline_id=editor.pipeline_id)
        events: list[Any] = [rx.call_script(_url_script(editor.pipeline_id, run_id))] if replace_url else []
        if live is not None and source == "live":
            snapshot = live.snapshot()
            await self._take(self._view().show(run_id, snapshot["status"], started_from=started_from), editor)
            (await self.get_state(CanvasStatusState)).show(rv.compact_status(snapshot["nodes"]))
            return [*events, RunState.watch(run_id, self._seq)]
        view = self._view().clear(started_from=started_from)  # until the record says what to show
        (await self.get_state(CanvasStatusState)).show({})
        await self._show_ended(run_id, view, editor, live if source == "ended" else None, record)
        return events

    async def clear(self, *, replace_url: bool = False) -> list[Any]:
        """Show no run (and stand down any watcher)."""
        editor = await self.get_state(EditorState)
        await (await self.get_state(RunSummaryState)).clear()
        await self._take(self._view().clear(), editor)
        (await self.get_state(CanvasStatusState)).show({})
        await (await self.get_state(SubflowLiveState)).shown("")
        return [rx.call_script(_url_script(editor.pipeline_id, ""))] if replace_url else []

    async def _show_ended(self, run_id: str, view: RunView, editor: EditorState, live: LiveRun | None,
                          record: Record | None) -> None:
        """An ended run: its stored record (summary, timeline, canvas), or what this process knows of it."""
        record = record or await run_data.read_run(run_id)
        stored = StoredRun(record[0].pipeline_id, record[0].status) if record is not None else None
        view, show_record = view.ended(run_id, stored, live_status=live.status if live else None,
                                       pipeline_id=editor.pipeline_id, viewing=bool(editor.viewing_run))
        await self._take(view, editor)
        await (await self.get_state(SubflowLiveState)).shown(view.run_id)  # an open subflow: the statuses inside
        canvas = await self.get_state(CanvasStatusState)
        if live is not None:  # while the process still has it, it knows more (e.g. reused vs cached)
            canvas.show(rv.compact_status(live.snapshot()["nodes"]))
        if show_record and record is not None:
            if live is None:
                canvas.show(rv.stored_status(record[1], record[0].spec))
            await (await self.get_state(RunSummaryState)).show_record(*record)
        await self._refresh_lists(editor.pipeline_id)

    @rx.event
    async def load(self):
        """on_load: the inputs of this pipeline, and the run to show (`?run=`, else one in flight)."""
        editor = await self.get_state(EditorState)
        self.refresh_fields(editor._spec if not editor.load_error else None)
        self.form_key += 1
        await (await self.get_state(PinsState)).reload(editor.pipeline_id)
        await (await self.get_state(BreakpointsState)).reload(editor.pipeline_id)
        await self._refresh_lists(editor.pipeline_id)
        wanted = str(self.router.url.query_parameters.get(routes.RUN_PARAM, "") or "")
        active = [] if wanted else [r.run_id for r in live_runs().active(editor.pipeline_id)]
        run_id, replace_url = run_to_load(wanted, active)
        if run_id:
            return await self.show(run_id, replace_url=replace_url)
        return await self.clear()

    @rx.event
    async def open_run(self, run_id: str):
        """History: show an old run on the canvas with its own spec and every node's data, read-only."""
        record = await run_data.read_run(run_id)
        if record is None:
            return rx.toast.error(f"Run `{run_id}` is not in the history any more.")
        run = record[0]
        try:
            spec = PipelineSpec.model_validate(run.spec)
        except ValidationError as exc:
            return rx.toast.error(f"Run `{run_id}` cannot be shown: its stored spec does not load in this version "
                                  f"({exc.errors(include_url=False)[0]['msg']}).")
        self.values, self.tab = rv.input_texts(run.inputs), "run"  # what was asked, in the run bar (to run it again)
        self.form_key += 1
        events = await self.show(run.id, replace_url=True, record=record)
        label = f"{run.status} run of {rv.summary_from_record(run)['started']}"
        await (await self.get_state(EditorState)).view_spec(spec, run.id, label)
        return events

    @rx.event
    async def back_to_editing(self):
        events = await self.clear(replace_url=True)
        await (await self.get_state(EditorState)).stop_viewing()
        return events

    # --- following a run in flight -------------------------------------------------------------
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
                    if not self._view().is_current(seq):
                        return None
                    fetch = await self._apply(snapshot)
                if fetch:  # the selected node just finished: its full record, read off the lock
                    await self._fetch_node(run_id, fetch, seq)
        return RunState.finished(run_id, seq)

    async def _apply(self, snapshot: dict[str, Any]) -> str | None:
        (await self.get_state(CanvasStatusState)).show(rv.compact_status(snapshot["nodes"]))
        (await self.get_state(DebugState)).on_snapshot(snapshot)
        (await self.get_state(SubflowLiveState)).follow(run_id=snapshot["run_id"])
        self._set_view(self._view().with_status(snapshot["status"]))
        return (await self.get_state(NodeRunState)).on_snapshot(snapshot)

    async def _fetch_node(self, run_id: str, node_id: str, seq: int) -> None:
        """From the watcher: the selected node's record, shown if the tab still shows this run."""
        record = await run_data.read_node(run_id, node_id)
        async with self:
            if self._view().is_current(seq):
                (await self.get_state(NodeRunState)).show_record(run_id, node_id, record)

    @rx.event
    async def finished(self, run_id: str, seq: int):
        """The followed run ended: its stored record for the summary, the timeline and the canvas."""
        if not self._view().is_current(seq):
            return None
        editor = await self.get_state(EditorState)
        live = live_runs().get(run_id)
        await self._show_ended(run_id, self._view(), editor, live if live is not None and live.done else None, None)
        return None

    async def _refresh_lists(self, pipeline_id: str) -> None:
        """This pipeline's run history and the review inbox's count (a run may have asked for a review)."""
        await (await self.get_state(HistoryState)).reload(pipeline_id)
        await (await self.get_state(MonitorState)).runs_changed(pipeline_id, shown=self.tab == "monitor")
        count = await asyncio.to_thread(run_data.pending_reviews)
        if count != self.pending_reviews:
            self.pending_reviews = count


def _unwrapped(value: Any) -> Any:
    """Reflex wraps state values in a change-tracking proxy; the runtime gets the object itself."""
    return getattr(value, "__wrapped__", value)


def _form_text(form: dict, field: rv.InputField) -> str:
    value = form.get(f"in:{field['name']}", "")
    return value if isinstance(value, str) else json.dumps(value)


def _issue_text(issue: Any) -> str:
    where = f"`{issue.node_id}`{'.' + issue.port if issue.port else ''}: " if issue.node_id else ""
    return f"{where}{issue.message}{' ' + issue.hint if issue.hint else ''}"


def _url_script(pipeline_id: str, run_id: str) -> str:
    """Keep the shown run in the address bar (a reload re-subscribes to it) without a navigation.

    Off the critical path: replaceState costs several ms of main thread, and a run may be starting."""
    return routes.replace_url_script(routes.shown_run(pipeline_id, run_id), delay_ms=100)
