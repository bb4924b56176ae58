"""Comparing the Evaluate tab's experiment with a baseline (deltas, regressed rows first, the graph diff outlined
on the canvas) and publishing the pipeline's version through the suite's gate (`runtime.store.publish`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from runtime.eval.diff import spec_sha256
from runtime.eval.gate import compare_reports
from runtime.eval.suite import Gate
from runtime.store import pipelines as store
from runtime.store.experiments import ExperimentNotFound, current_publication, get_experiment
from runtime.store.publish import PublishRefused, publish_version

from .. import eval_views as ev
from ..graph import spec_to_dict
from .editor import EditorState
from .evaluate import EvalState
from .outlines import OutlineState

__all__ = ["EvalCompareState", "PublishState"]


class EvalCompareState(rx.State):
    baseline_id: str = ""
    compared_for: str = ""  # the experiment the comparison belongs to (a new run hides it)
    cards: dict[str, str] = {}
    regressions: list[str] = []
    improvements: list[str] = []
    param_diffs: list[dict[str, Any]] = []
    error: str = ""

    @rx.event
    async def compare(self, baseline_id: str):
        """Compare the shown experiment with `baseline_id` (a stored experiment of the same suite)."""
        evaluation = await self.get_state(EvalState)
        self.baseline_id, self.error = baseline_id, ""
        if not baseline_id:
            return await self.clear()
        current = evaluation.report()
        if current is None:
            self.error = "Run the experiment first: the comparison is of its results with the baseline's."
            return None
        try:
            base, now = await asyncio.gather(asyncio.to_thread(get_experiment, baseline_id),
                                             asyncio.to_thread(get_experiment, current["experiment_id"]))
        except ExperimentNotFound as exc:
            self.error = str(exc)
            return None
        comparison = compare_reports(now.report, base.report, now.spec, base.spec)
        self.compared_for = now.id
        self.cards = ev.comparison_cards(comparison)
        self.regressions = [str(r) for r in comparison["regressions"]]
        self.improvements = [str(r) for r in comparison["improvements"]]
        self.param_diffs = ev.param_diffs(comparison["graph_diff"])
        evaluation.show_comparison(comparison, base.report)
        (await self.get_state(OutlineState)).show(ev.diff_outlines(comparison["graph_diff"]), "baseline")
        return None

    @rx.event
    async def clear(self):
        self.baseline_id, self.compared_for, self.cards, self.param_diffs = "", "", {}, []
        self.regressions, self.improvements = [], []
        (await self.get_state(EvalState)).show_comparison(None, None)
        outlines = await self.get_state(OutlineState)
        if outlines.source == "baseline":
            outlines.show({}, "")


def _version_for(pipeline_id: str, spec: dict[str, Any]) -> store.PipelineVersion:
    """The saved version holding exactly this spec (layout aside), saved now when there is none."""
    sha = spec_sha256(spec)
    for version in store.list_versions(pipeline_id):
        if spec_sha256(version.spec) == sha:
            return version
    return store.save_version(pipeline_id, f"published {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC", spec)


def _publish(pipeline_id: str, spec: dict[str, Any], suite_name: str | None,
             gate: Gate | None = None) -> tuple[Any, store.PipelineVersion]:
    version = _version_for(pipeline_id, spec)
    return publish_version(pipeline_id, version.id, suite_name=suite_name, gate=gate), version


class PublishState(rx.State):
    status: str = ""  # "" | published | refused
    message: str = ""
    reasons: list[str] = []
    published: str = ""  # which version is published now

    async def _show_current(self, pipeline_id: str) -> None:
        current = await asyncio.to_thread(current_publication, pipeline_id)
        self.published = f"version #{current.version_id}" if current is not None else ""

    @rx.event
    async def open(self):
        editor = await self.get_state(EditorState)
        if editor.pipeline_id:
            await self._show_current(editor.pipeline_id)

    @rx.event
    async def publish(self):
        """Publish the pipeline as it is now; with a suite (assertions), only when its gate holds against the
        published version's latest experiment."""
        editor = await self.get_state(EditorState)
        if editor._spec is None or editor.viewing_run:
            return rx.toast.error("An old run is shown: press “Back to editing” to publish the pipeline.")
        evaluation = await self.get_state(EvalState)
        suite = evaluation.suite_name if evaluation.loaded_for == editor.pipeline_id and evaluation.assertions else None
        gate = evaluation.gate_rules() if suite else None  # the Gate section's rules, as saved now
        try:
            publication, version = await asyncio.to_thread(_publish, editor.pipeline_id,
                                                           spec_to_dict(editor._spec), suite, gate)
        except PublishRefused as exc:
            self.status, self.reasons = "refused", list(exc.reasons)
            self.message = str(exc).splitlines()[0]
            return None
        except (store.PipelineNotFound, ValueError) as exc:
            self.status, self.message, self.reasons = "refused", str(exc), []
            return None
        gated = f" (the gate of suite `{suite}` held, experiment {publication.experiment_id})" if suite else \
            " (no suite attached: not gated)"
        self.status, self.reasons = "published", list((publication.gate or {}).get("reasons", []))
        self.message = f"Published version #{version.id} `{version.label}`{gated}."
        await self._show_current(editor.pipeline_id)
        return None
