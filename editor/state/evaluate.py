"""The Evaluate tab: the open pipeline's suite (dataset, input columns, assertions), its experiment run in the
background through the CLI's runner (`runtime.eval.session.run_prepared`) with live progress, and the results.

The suite is a file beside the pipeline (`editor.eval_store`); comparing with a baseline and publishing are
`editor.state.eval_compare`'s. Views of the results are `editor.eval_views`' pure functions.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import reflex as rx

from runtime.batch.runner import BatchError
from runtime.eval.session import IncompleteExperiment
from runtime.eval.suite import Gate, InvalidSuite
from runtime.validation import ERROR_PORT

from .. import eval_gate, eval_store, graph
from .. import eval_views as ev
from .. import run_views as rv
from ..catalog import registry
from ..eval_forms import FormField, assertion_from_form, default_type_for, describe, fields_for
from ..upload_refusals import RefusedUpload, dataset_refusal_message
from ..uploads import read_dataset_upload
from .editor import EditorState, follows_editor
from .outlines import OutlineState

__all__ = ["EvalState", "EvalPortsState", "UPLOAD_ID", "PROGRESS_INTERVAL_S"]

log = logging.getLogger(__name__)
UPLOAD_ID = "eval-dataset"
PROGRESS_INTERVAL_S = 0.1


@follows_editor
class EvalState(rx.State):
    loaded_for: str = ""  # the pipeline whose suite is shown
    suite_name: str = ""
    dataset_label: str = ""
    columns: list[str] = []
    preview_rows: list[list[str]] = []
    row_count: int = 0
    dataset_error: str = ""
    examples: list[str] = []
    input_map: list[dict[str, str]] = []  # [{name: pipeline input, column: dataset column}]
    assertions: list[dict[str, str]] = []  # [{name, text}]
    form_type: str = "icontains"
    form_node: str = ""
    form_port: str = ""
    form_key: int = 0  # bumped to remount the form's uncontrolled fields with new defaults
    form_error: str = ""
    gate_rates: list[eval_gate.PassRateField] = []  # the Gate section: least pass rate per assertion (percent)
    gate_max_regressions: str = ""
    gate_max_latency: str = ""  # percent
    gate_unknown: list[str] = []  # min_pass_rate entries of the suite file naming no assertion
    gate_errors: list[str] = []
    gate_key: int = 0  # bumped to remount the gate's uncontrolled fields with the saved values
    gate_saved: int = 0  # how many times the gate was saved (tests wait on it)
    verdict: str = ""  # "" (no results) | passed | failed: the shown experiment under the gate as set now
    verdict_reasons: list[str] = []
    engine: str = "local"
    ray_address: str = ""
    engine_error: str = ""
    running: bool = False
    done: int = 0
    total: int = 0
    passed_rows: int = 0
    problems: list[str] = []
    experiment_id: str = ""
    experiments: list[dict[str, str]] = []  # this suite's stored experiments (baseline choices)
    cards: dict[str, str] = {}
    names: list[str] = []
    rows: list[ev.ResultRow] = []
    pass_bars: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    costs: list[dict[str, Any]] = []
    _draft: dict[str, Any] = {}
    _report: dict[str, Any] | None = None

    @rx.var
    def form_fields(self) -> list[FormField]:
        return fields_for(self.form_type)

    @rx.var
    def progress(self) -> str:
        return ev.progress_text(self.done, self.total, self.passed_rows)

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """Another pipeline opened while its suite is shown: show that pipeline's."""
        if self.loaded_for and editor.pipeline_id and editor.pipeline_id != self.loaded_for and not self.running:
            await self._load(editor)

    # --- the suite -----------------------------------------------------------------------------
    @rx.event
    async def open(self):
        """The tab opened: this pipeline's suite (again when another pipeline is open now)."""
        editor = await self.get_state(EditorState)
        if editor.pipeline_id and editor.pipeline_id != self.loaded_for:
            await self._load(editor)
        elif editor.pipeline_id:
            await self._show_inputs()  # inputs may have been added or removed since

    async def _load(self, editor: EditorState) -> None:
        draft = await asyncio.to_thread(eval_store.load_draft, editor.pipeline_id, editor.pipeline_name)
        self.loaded_for, self._draft, self.suite_name = editor.pipeline_id, draft, draft["name"]
        self.examples = [e["label"] for e in await asyncio.to_thread(eval_store.example_datasets)]
        self._report, self.experiment_id, self.rows, self.cards, self.problems = None, "", [], {}, []
        self.pass_bars, self.latency, self.costs, self.names = [], [], [], []
        self.gate_errors, self.engine_error = [], ""
        self.engine, self.ray_address = eval_gate.engine_form(draft)
        await self._show_dataset()
        self._show_assertions()
        await self.refresh_experiments()

    async def _show_dataset(self) -> None:
        path = Path(self._draft.get("dataset") or "")
        self.dataset_label = path.name if self._draft.get("dataset") else ""
        shown = await asyncio.to_thread(ev.preview, path) if self.dataset_label else None
        self.columns, self.preview_rows = (shown["columns"], shown["rows"]) if shown else ([], [])
        self.row_count, self.dataset_error = (shown["count"], shown["error"]) if shown else (0, "")
        await self._show_inputs()

    async def _show_inputs(self) -> None:
        editor = await self.get_state(EditorState)
        if editor._spec is None:
            return
        names = [f["name"] for f in rv.input_fields(editor._spec)]
        mapping = {k: v for k, v in self._draft.get("inputs", {}).items() if k in names}  # gone inputs: dropped
        self._draft["inputs"] = mapping
        for name in names:  # a column named like the input is taken by default
            if name not in mapping and self.columns:
                mapping[name] = name if name in self.columns else self.columns[0]
        self.input_map = [{"name": n, "column": str(mapping.get(n, ""))} for n in names]

    def _show_assertions(self) -> None:
        self.assertions = [{"name": a["name"], "text": describe(a)} for a in self._draft.get("assertions", [])]
        self._show_gate()

    def _show_gate(self) -> None:
        shown = eval_gate.gate_form(self._draft.get("gate"), [a["name"] for a in self.assertions])
        self.gate_rates, self.gate_unknown = shown["pass_rates"], shown["unknown"]
        self.gate_errors = shown["problems"]
        self.gate_max_regressions = shown["max_regressions"]
        self.gate_max_latency = shown["max_latency_p95_increase"]
        self.gate_key += 1
        self._show_verdict()

    def _show_verdict(self) -> None:
        verdict = eval_gate.gate_verdict(self._draft.get("gate"), self._report["summary"]) if self._report else None
        self.verdict = "" if verdict is None else "passed" if verdict["passed"] else "failed"
        self.verdict_reasons = verdict["reasons"] if verdict else []

    async def _save(self) -> None:
        await asyncio.to_thread(eval_store.save_draft, self.loaded_for, dict(self._draft))

    async def _use_dataset(self, path: Path) -> None:
        self._draft["dataset"] = str(path)
        await self._show_dataset()
        await self._save()

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if not files or not self.loaded_for:
            return None
        upload = files[0]
        try:
            data = await read_dataset_upload(upload, upload.name or "")  # never more than the cap in memory
            path = await asyncio.to_thread(eval_store.save_upload, self.loaded_for, upload.name or "", data)
        except eval_store.UploadRefused as exc:
            self.dataset_error = str(exc)
            return rx.toast.error(str(exc), duration=6000)
        await self._use_dataset(path)
        return None

    @rx.event
    def upload_refused(self, detail: dict):
        """The server refused the upload before `upload` ran (assets/upload_refusal.jsx): say so here too."""
        self.dataset_error = dataset_refusal_message(RefusedUpload.from_browser(detail, "the dataset"))
        return rx.toast.error(self.dataset_error, duration=6000)

    @rx.event
    async def pick_example(self, label: str):
        known = {e["label"]: e["path"] for e in await asyncio.to_thread(eval_store.example_datasets)}
        if label in known:  # never a path from the browser: only the listed examples
            await self._use_dataset(Path(known[label]))

    @rx.event
    async def set_input_column(self, name: str, column: str):
        self._draft.setdefault("inputs", {})[name] = column
        self.input_map = [{"name": m["name"], "column": column if m["name"] == name else m["column"]}
                          for m in self.input_map]
        await self._save()

    # --- assertions ----------------------------------------------------------------------------
    @rx.event
    def set_form_type(self, kind: str):
        self.form_type, self.form_error = kind, ""

    @rx.event
    async def assert_on_port(self, node: str, port: str, port_type: str):
        """"Assert on this port": the form, filled in for this node's output."""
        editor = await self.get_state(EditorState)
        if editor.pipeline_id != self.loaded_for:
            await self._load(editor)
        self.form_node, self.form_port, self.form_type = node, port, default_type_for(port_type)
        self.form_error, self.form_key = "", self.form_key + 1

    @rx.event
    async def add_assertion(self, form: dict):
        taken = {a["name"] for a in self._draft.get("assertions", [])}
        assertion, problem = assertion_from_form(form, taken)
        self.form_error = problem
        if assertion is None:
            return None
        self._draft.setdefault("assertions", []).append(assertion)
        self._show_assertions()
        self.form_node, self.form_port, self.form_key = "", "", self.form_key + 1
        await self._save()
        return None

    @rx.event
    async def remove_assertion(self, name: str):
        self._draft["assertions"] = [a for a in self._draft.get("assertions", []) if a["name"] != name]
        self._draft["gate"] = eval_gate.drop_assertion(self._draft.get("gate"), name)
        self._show_assertions()
        await self._save()

    # --- the gate and the engine ---------------------------------------------------------------
    @rx.event
    async def save_gate(self, form: dict):
        """The Gate section's rules into the suite file (nothing saved while a field does not validate)."""
        if not self.loaded_for:
            return
        names = [a["name"] for a in self.assertions]
        gate, self.gate_errors = eval_gate.gate_from_form(form, names, self._draft.get("gate"))
        if gate is None:
            return
        self._draft["gate"] = gate
        self._show_gate()
        self.gate_saved += 1
        await self._save()

    @rx.event
    async def set_engine(self, engine: str):
        await self._save_engine(engine, self.ray_address if engine == "ray" else "")

    @rx.event
    async def set_ray_address(self, address: str):
        await self._save_engine(self.engine, address)

    async def _save_engine(self, engine: str, address: str) -> None:
        chosen, self.engine_error = eval_gate.engine_from_form(engine, address)
        self.engine, self.ray_address = engine, address
        if chosen is None or not self.loaded_for:
            return
        self._draft.update(chosen)
        await self._save()

    # --- running -------------------------------------------------------------------------------
    async def refresh_experiments(self) -> None:
        self.experiments = await asyncio.to_thread(eval_store.experiments_of, self.suite_name)

    async def _prepare(self) -> Any:
        """The prepared experiment of the shown spec, or None (the problems are shown)."""
        from runtime.eval.runner import prepare_suite

        editor = await self.get_state(EditorState)
        if editor._spec is None or editor.viewing_run:
            self.problems = ["An old run is shown: press “Back to editing” to evaluate the pipeline."]
            return None
        spec = graph.spec_to_dict(editor._spec)
        try:
            suite = eval_store.draft_suite(dict(self._draft))
            folder = Path(self._draft.get("dataset") or ".").parent
            return await asyncio.to_thread(prepare_suite, suite, folder, registry(), spec=spec)
        except InvalidSuite as exc:
            self.problems = [_issue_text(i) for i in exc.issues]
        except Exception as exc:
            log.exception("preparing the experiment of %s failed", self.loaded_for)
            self.problems = [f"The experiment could not be prepared: {type(exc).__name__}: {exc}"]
        return None

    @rx.event(background=True)
    async def run_experiment(self):
        async with self:
            if self.running or not self.loaded_for:
                return None
            self.problems, self.running = [], True
            prep = await self._prepare()
            if prep is None:
                self.running = False
                return None
            self.done, self.total, self.passed_rows = 0, len(prep.rows), 0
        try:
            result = await self._run(prep)
        except (BatchError, IncompleteExperiment) as exc:  # an unreachable cluster, lost Ray tasks: said plainly
            result = None
            async with self:
                self.problems = [str(exc)]
        except Exception as exc:
            log.exception("the experiment of %s failed", self.loaded_for)
            result = None
            async with self:
                self.problems = [f"The experiment failed: {type(exc).__name__}: {exc}"]
        async with self:
            self.running = False
            if result is not None:
                self._show_results(*result)
                await self.refresh_experiments()
                outlines = await self.get_state(OutlineState)
                if outlines.source == "baseline":
                    outlines.show({}, "")
        return None

    async def _run(self, prep: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run the rows; the progress vars follow at most every PROGRESS_INTERVAL_S."""
        from runtime.eval.report import row_passed
        from runtime.eval.session import run_prepared

        counts = {"done": 0, "passed": 0}

        def on_record(record: dict[str, Any]) -> None:
            counts["done"] += 1
            counts["passed"] += row_passed(record)

        task = asyncio.ensure_future(run_prepared(prep, on_record=on_record))
        while not task.done():
            await asyncio.wait([task], timeout=PROGRESS_INTERVAL_S)
            async with self:
                if (self.done, self.passed_rows) != (counts["done"], counts["passed"]):
                    self.done, self.passed_rows = counts["done"], counts["passed"]
        return task.result()

    def _show_results(self, report: dict[str, Any], records: list[dict[str, Any]]) -> None:
        self._report, self.experiment_id = report, report["experiment_id"]
        self.done = self.total = len(records)
        self.names = list(report["summary"]["assertions"])
        self.cards = ev.summary_cards(report)
        self.latency = ev.latency_bins([ms for r in records for ms in r.get("latencies", [])])
        self.costs = ev.cost_bars(records)
        self._show_verdict()
        self.show_comparison(None, None)

    def show_comparison(self, comparison: dict[str, Any] | None, baseline: dict[str, Any] | None) -> None:
        """The table and the pass-rate bars, with a baseline's regressed rows first and its bars beside."""
        if self._report is None:
            return
        self.rows = ev.result_rows(self._report, comparison)
        self.pass_bars = ev.pass_rate_bars(self._report, baseline)

    def report(self) -> dict[str, Any] | None:
        return self._report

    def gate_rules(self) -> Gate | None:
        """The suite's gate as saved (what `patchwire eval` of the suite file uses too); None when the file's
        does not validate (Publish then uses the gate stored with the experiment)."""
        return eval_gate.parse_gate(self._draft.get("gate"))[0]


@follows_editor
class EvalPortsState(rx.State):
    """The selected node's output ports, each with "assert on this port" in the inspector."""

    node_id: str = ""
    ports: list[dict[str, str]] = []  # [{port, type}]

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        spec = editor.shown_spec()
        node = spec.node(editor.selected_nodes[0]) if spec is not None and len(editor.selected_nodes) == 1 else None
        resolved = graph.node_ports(node, registry()) if node is not None else None
        ports = [{"port": p.name, "type": p.type_label} for p in (resolved.outputs.values() if resolved else [])
                 if p.name != ERROR_PORT]
        node_id = node.id if node is not None else ""
        if (node_id, ports) != (self.node_id, self.ports):
            self.node_id, self.ports = node_id, ports


def _issue_text(issue: Any) -> str:
    where = f"`{issue.node_id}`{'.' + issue.port if issue.port else ''}: " if issue.node_id else ""
    return f"{where}{issue.message}{' ' + issue.hint if issue.hint else ''}"
