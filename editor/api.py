"""A small read-only HTTP API for scripts: list pipelines, fetch a pipeline's spec (behind the gate).

What leaves here is masked as `patchwire export` masks it (`runtime.export`): a secret value pasted into a
spec never reaches a script, though the stored pipeline keeps it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime import PipelineSpec
from runtime.export.spec_files import scrubbed_data, spec_document
from runtime.store import pipelines as store

from . import routes

__all__ = ["api", "public_spec"]


async def list_pipelines(request: Request) -> JSONResponse:
    rows = await run_in_threadpool(store.list_pipelines)
    return JSONResponse([{"id": r.id, "name": scrubbed_data(r.name, "The pipeline's `name`")[0],
                          "revision": r.revision, "nodes": r.node_count, "updated_at": r.updated_at.isoformat()}
                         for r in rows])


def public_spec(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored spec as the export writes it (a spec that no longer validates: masked all the same)."""
    try:
        spec = PipelineSpec.model_validate(stored)
    except ValidationError:
        return scrubbed_data(stored, "The stored spec")[0]
    return spec_document(spec)[0]


def _spec_of(pipeline_id: str) -> tuple[dict[str, Any], int]:
    record = store.get_pipeline(pipeline_id)
    return public_spec(record.spec), record.revision


async def get_spec(request: Request) -> JSONResponse:
    pipeline_id = request.path_params["pipeline_id"]
    try:
        spec, revision = await run_in_threadpool(_spec_of, pipeline_id)
    except store.PipelineNotFound as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse(spec, headers={"x-patchwire-revision": str(revision)})


api = Starlette(routes=[
    Route(routes.API_PIPELINES, list_pipelines),
    Route(routes.API_PIPELINE_SPEC, get_spec),
])
