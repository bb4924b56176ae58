"""Publishing a pipeline version, gated by its eval suite, and finding the published version to serve.

With a suite, publishing version V compares V's latest experiment of that suite with the latest experiment of
the currently published version (the baseline) and refuses unless the suite's gate holds.
"""

from __future__ import annotations

from typing import Any

from ..eval.diff import spec_sha256
from ..eval.gate import compare_reports, evaluate_gate
from ..eval.suite import Gate
from .experiments import Experiment, Publication, add_publication, current_publication, latest_experiment
from .pipelines import PipelineNotFound, PipelineVersion, get_pipeline, get_version, list_pipelines

__all__ = ["PublishRefused", "publish_version", "published_version", "find_pipeline", "gate_for_publish"]


class PublishRefused(RuntimeError):
    """The gate did not hold (or there is nothing to gate on); `reasons` says why."""

    def __init__(self, message: str, reasons: list[str]):
        self.reasons = reasons
        super().__init__(message + "".join(f"\n  - {r}" for r in reasons))


def find_pipeline(name_or_id: str) -> Any:
    """A saved pipeline by id, else by its (unique) name."""
    try:
        return get_pipeline(name_or_id)
    except PipelineNotFound:
        named = [p for p in list_pipelines(10_000) if p.name == name_or_id]
        if len(named) == 1:
            return get_pipeline(named[0].id)
        if named:
            raise PipelineNotFound(f"{len(named)} pipelines are named `{name_or_id}`: use the id "
                                   f"({', '.join(p.id for p in named)}).") from None
        raise PipelineNotFound(f"No saved pipeline with id or name `{name_or_id}`.") from None


def _experiment_of(version: PipelineVersion, suite_name: str) -> Experiment | None:
    return (latest_experiment(suite_name, pipeline_version=version.id)
            or _by_spec(suite_name, spec_sha256(version.spec)))


def _by_spec(suite_name: str, sha: str) -> Experiment | None:
    from sqlmodel import col, select

    from .db import session

    query = (select(Experiment).where(col(Experiment.suite_name) == suite_name, col(Experiment.spec_sha256) == sha)
             .order_by(col(Experiment.created_at).desc()).limit(1))
    with session() as s:
        return s.exec(query).first()


def gate_for_publish(pipeline_id: str, version: PipelineVersion, suite_name: str,
                     gate: Gate | None = None) -> tuple[dict[str, Any], Experiment]:
    """The gate result of publishing `version`, against the published version's latest experiment."""
    candidate = _experiment_of(version, suite_name)
    if candidate is None:
        raise PublishRefused(f"Cannot publish version #{version.id} of `{pipeline_id}`: it has no experiment of suite "
                             f"`{suite_name}`.", [f"run `patchwire eval SUITE` on this version first "
                                                  f"(suite `pipeline_id: {pipeline_id}`, `version: {version.id}`)"])
    published = current_publication(pipeline_id)
    baseline = None
    if published is not None and published.version_id != version.id:
        baseline = _experiment_of(get_version(published.version_id), suite_name)
    rules = gate if gate is not None else Gate.model_validate((candidate.suite or {}).get("gate") or {})
    comparison = compare_reports(candidate.report, baseline.report, candidate.spec, baseline.spec) if baseline else None
    result = evaluate_gate(rules, candidate.report["summary"], comparison,
                           baseline.report["summary"] if baseline else None)
    return {**result, "experiment_id": candidate.id, "baseline": comparison}, candidate


def publish_version(pipeline_id: str, version_id: int, *, suite_name: str | None = None,
                    gate: Gate | None = None) -> Publication:
    """Mark a saved version published; with `suite_name`, only when the suite's gate holds."""
    version = get_version(version_id)
    if version.pipeline_id != pipeline_id:
        raise PipelineNotFound(f"Version #{version_id} belongs to pipeline `{version.pipeline_id}`, not `{pipeline_id}`.")
    if suite_name is None:
        return add_publication(pipeline_id, version_id, None, None)
    result, candidate = gate_for_publish(pipeline_id, version, suite_name, gate)
    if not result["passed"]:
        raise PublishRefused(f"Publishing version #{version_id} of `{pipeline_id}` refused: the gate of suite "
                             f"`{suite_name}` did not hold.", result["reasons"])
    return add_publication(pipeline_id, version_id, candidate.id, {"passed": True, "reasons": result["reasons"]})


def published_version(name_or_id: str) -> PipelineVersion:
    """The published version of a saved pipeline (by id or name)."""
    pipeline = find_pipeline(name_or_id)
    publication = current_publication(pipeline.id)
    if publication is None:
        raise PipelineNotFound(f"Pipeline `{pipeline.name}` ({pipeline.id}) has no published version: publish one with "
                               f"`patchwire publish {pipeline.id} VERSION`.")
    return get_version(publication.version_id)
