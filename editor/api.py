"""A small read-only HTTP API for scripts: list pipelines, fetch a pipeline's spec (behind the gate)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime.store import pipelines as store

from . import routes

__all__ = ["api"]


async def list_pipelines(request: Request) -> JSONResponse:
    rows = await run_in_threadpool(store.list_pipelines)
    return JSONResponse([{"id": r.id, "name": r.name, "revision": r.revision, "nodes": r.node_count,
                          "updated_at": r.updated_at.isoformat()} for r in rows])


async def get_spec(request: Request) -> JSONResponse:
    pipeline_id = request.path_params["pipeline_id"]
    try:
        record = await run_in_threadpool(store.get_pipeline, pipeline_id)
    except store.PipelineNotFound as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse(record.spec, headers={"x-patchwire-revision": str(record.revision)})


api = Starlette(routes=[
    Route(routes.API_PIPELINES, list_pipelines),
    Route(routes.API_PIPELINE_SPEC, get_spec),
])
