"""The pipelines a service answers for: each spec compiled once at start-up, with its descriptions, plus the
published version of a served pipeline under `<name>@published`.

A served pipeline `echo` whose saved pipeline of the same name has a published version (`patchwire publish`)
is also served as `echo@published`: `POST /v1/pipelines/echo@published/run`, the OpenAI model
`patchwire/echo@published`. The published version is looked up when the service starts; restart it after
publishing another version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api import compile as compile_plan
from ..issues import InvalidSpec
from ..plan import Plan
from ..registry import Registry
from ..spec import PipelineSpec
from .runner import ApiError, Pipeline

__all__ = ["ServeConfigError", "PublishedSpec", "PUBLISHED_SUFFIX", "compile_pipelines", "find_pipeline",
           "published_versions", "unpublished_note"]

PUBLISHED_SUFFIX = "@published"


class ServeConfigError(ValueError):
    """The service cannot start: duplicate pipeline names, no pipelines, a bad setting."""


@dataclass(frozen=True, slots=True)
class PublishedSpec:
    """The published version of a saved pipeline: its spec, the saved pipeline's id and the version's id."""

    spec: PipelineSpec
    pipeline_id: str
    version: int


def compile_pipelines(specs: Sequence[PipelineSpec], registry: Registry,
                      published: Mapping[str, PublishedSpec] | None = None) -> dict[str, Pipeline]:
    """Every spec by its name, then each `published[name]` as `<name>@published` (raises `InvalidSpec`,
    `ServeConfigError`)."""
    if not specs:
        raise ServeConfigError("No pipelines to serve: give at least one spec file.")
    pipelines: dict[str, Pipeline] = {}
    for spec in specs:
        if spec.name in pipelines:
            raise ServeConfigError(f"Two specs are named `{spec.name}`; pipelines are served by their `name`. "
                                   "Rename one of them (the `name` field of the spec).")
        plan = compile_plan(spec, registry)
        pipelines[spec.name] = Pipeline(spec.name, plan, *_descriptions(plan, spec.name))
    for name, release in (published or {}).items():
        if name not in pipelines:
            raise ServeConfigError(f"The published version of `{name}` is given, but no served spec is named "
                                   f"`{name}`: serve it with `--published {release.pipeline_id}`.")
        served = name + PUBLISHED_SUFFIX
        if served in pipelines:
            raise ServeConfigError(f"A spec is named `{served}`, which is the name of `{name}`'s published version. "
                                   "Rename that spec.")
        about = {"pipeline_id": release.pipeline_id, "version": release.version}
        plan = compile_plan(release.spec, registry)
        pipelines[served] = Pipeline(served, plan, *_descriptions(plan, served, about), published=about)
    return pipelines


def _descriptions(plan: Plan, name: str,
                  published: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, detail), masked as `patchwire export` masks a spec: no secret value in any of it."""
    from ..export.spec_files import scrubbed_data, spec_document
    from .schema import inputs_schema, outputs_schema

    document, _ = spec_document(plan.spec)
    url = f"/v1/pipelines/{name}"
    summary = {"name": name, "description": document["description"], "inputs": list(plan.inputs),
               "outputs": list(plan.output_ids), "url": url, "run_url": f"{url}/run"}
    if published is not None:
        summary["published"] = published
    schema, _ = scrubbed_data(inputs_schema(plan), f"Pipeline `{name}`'s inputs")
    detail = {**summary, "spec": document, "inputs_schema": schema, "outputs_schema": outputs_schema(plan)}
    return summary, detail


def find_pipeline(pipelines: dict[str, Pipeline], name: str) -> Pipeline:
    pipeline = pipelines.get(name)
    if pipeline is None:
        known = ", ".join(f"`{n}`" for n in pipelines)
        raise ApiError(404, f"No pipeline named `{name}`{unpublished_note(pipelines, name)}. Served pipelines: {known}.")
    return pipeline


def unpublished_note(pipelines: Mapping[str, Any], name: str) -> str:
    """Why `<name>@published` is not served when `<name>` is."""
    base = name.removesuffix(PUBLISHED_SUFFIX)
    if base == name or base not in pipelines:
        return ""
    return (f" (`{base}` has no published version in this service: publish one with `patchwire publish`, then "
            "restart the service)")


def published_versions(names: Iterable[str],
                       registry: Registry) -> tuple[dict[str, PublishedSpec], list[str]]:
    """The published version of each served name that has one (a saved pipeline of that name, in the run-history
    database), and a note for each that cannot be served (ambiguous, or no longer valid)."""
    from ..store.experiments import current_publication
    from ..store.pipelines import get_version, list_pipelines

    wanted = set(names)
    saved: dict[str, list[str]] = {}
    for summary in list_pipelines(100_000):
        if summary.name in wanted:
            saved.setdefault(summary.name, []).append(summary.id)
    found: dict[str, PublishedSpec] = {}
    notes: list[str] = []
    for name, ids in saved.items():
        publications = [p for p in map(current_publication, ids) if p is not None]
        if len(publications) > 1:
            notes.append(f"`{name}@published` is not served: {len(publications)} saved pipelines named `{name}` "
                         f"have a published version ({', '.join(sorted(p.pipeline_id for p in publications))}); rename "
                         "all but one.")
        elif publications:
            release = publications[0]
            spec = PipelineSpec.model_validate(get_version(release.version_id).spec)
            problem = _compile_problem(spec, registry)
            if problem is None:
                found[name] = PublishedSpec(spec, release.pipeline_id, release.version_id)
            else:
                notes.append(f"`{name}@published` is not served: published version #{release.version_id} of "
                             f"`{name}` ({release.pipeline_id}) cannot run: {problem}")
    return found, notes


def _compile_problem(spec: PipelineSpec, registry: Registry) -> str | None:
    try:
        compile_plan(spec, registry)
    except InvalidSpec as exc:
        return str(exc)
    return None
