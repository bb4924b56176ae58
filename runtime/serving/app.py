"""`patchwire serve`: pipelines as an HTTP service (FastAPI).

    app = create_app([spec_a, spec_b], registry, api_token="...")

- `POST /v1/pipelines/{name}/run` with `{"inputs": {...}}` answers with exactly the `patchwire run --json`
  object (200 succeeded, 500 failed); with `Accept: text/event-stream` it streams every run event (node
  events and model tokens) as server-sent events, in order.
- `GET /v1/pipelines`, `GET /v1/pipelines/{name}` (the spec and the JSON Schema of inputs and outputs),
  `GET /healthz`, OpenAPI docs at `/docs`.
- OpenAI-compatible `/v1/models`, `/v1/chat/completions`, `/v1/responses` (openai_api.py) and, with
  `mcp=True`, the pipelines as MCP tools at `/mcp` (mcp_server.py), all behind the same gate.
- A served pipeline's published version, when given, is served too as `<name>@published` (served.py).
- Every request passes `ServeGuard` (guard.py): the bearer token when one is configured, else a Host
  allow-list and no cross-site callers; `application/json` bodies only. A body size limit (413) and a
  per-request time limit (504, the run is cancelled); a client that goes away cancels its run; bad input
  gets a 4xx naming the problem.
- A run whose record could not be stored answers 503 naming the database problem, never a silent 200;
  `/healthz` reports each of `checks` (the database) and answers 503 while one fails (records.py).

Stateless: plans are compiled once at startup (served.py) and nothing is kept between requests, so any number
of processes can sit behind a load balancer. Each run is one event stream with several consumers (the
result collector, the SSE writer, and whatever `consumers` adds, e.g. a run recorder): runner.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer

from ..api import execute
from ..consumers import ConsumerFactory
from ..http_guard import extra_hosts, token_problem
from ..issues import InvalidInputs
from ..registry import Registry, default_registry
from ..spec import PipelineSpec
from ..tracing import continue_trace
from .bodies import read_body, run_inputs
from .guard import ServeGuard
from .records import HealthCheck, health_checks, health_report, record_consumers_for
from .runner import ApiError, Pipeline, Runner
from .schema import RUN_BODY_SCHEMA, RUN_RESULT_SCHEMA
from .served import PublishedSpec, ServeConfigError, compile_pipelines, find_pipeline, published_versions

__all__ = ["create_app", "app_from_env", "ServeConfigError", "ConsumerFactory", "DEFAULT_MAX_BODY_BYTES",
           "DEFAULT_REQUEST_TIMEOUT_S", "CONFIG_ENV", "PublishedSpec"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 300.0
CONFIG_ENV = "PATCHWIRE_SERVE_CONFIG"  # how `patchwire serve --workers N` hands its settings to workers
TOKEN_ENV = "PATCHWIRE_API_TOKEN"
# FastAPI's built-in OpenTelemetry hooks, all off: the service reports to no one (FASTAPI_OTEL_* ignored).
NO_TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                     "auto_configure": False}


def create_app(specs: Sequence[PipelineSpec], registry: Registry | None = None, *, api_token: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
               consumers: Sequence[ConsumerFactory] = (), allowed_hosts: Collection[str] | None = None,
               checks: Mapping[str, HealthCheck] | None = None,
               consumers_for: Callable[[str], Sequence[ConsumerFactory]] | None = None,
               mcp: bool = False, published: Mapping[str, PublishedSpec] | None = None) -> FastAPI:
    """The FastAPI app serving `specs` (compiled now; raises `InvalidSpec` or `ServeConfigError`).

    `api_token`: required bearer token; None reads `PATCHWIRE_API_TOKEN` (unset or empty: no auth).
    `allowed_hosts`: `Host` names accepted besides loopback when there is no token; None reads
    `PATCHWIRE_ALLOWED_HOSTS`. `checks`: what `/healthz` reports, e.g. `{"database": database_status}`.
    `consumers` get the events of every run; `consumers_for(source)` adds consumers per route family
    (`serve`, `openai`, `mcp`), e.g. run recorders that store the source. `mcp`: also answer MCP
    (Streamable HTTP) at `/mcp`. `published`: served name -> its published version, served as
    `<name>@published` on the HTTP and OpenAI routes (served.py; MCP tools stay the `specs` given).
    """
    if max_body_bytes <= 0 or request_timeout_s <= 0:
        raise ServeConfigError("max_body_bytes and request_timeout_s must be positive.")
    token = api_token if api_token is not None else os.environ.get(TOKEN_ENV) or None
    if weak := token_problem(TOKEN_ENV, token):
        raise ServeConfigError(weak)
    pipelines = compile_pipelines(specs, registry if registry is not None else default_registry(), published)
    from .openai_api import add_openai_routes, refusal_body  # it builds on this module

    def runner(source: str) -> Runner:
        extra = tuple(consumers_for(source)) if consumers_for is not None else ()
        return Runner(request_timeout_s, (*consumers, *extra), max_body_bytes)

    mcp_endpoint = _mcp_endpoint(pipelines, runner("mcp"), max_body_bytes) if mcp else None
    app = FastAPI(title="Patchwire pipelines", version="1", telemetry=NO_TELEMETRY,
                  lifespan=mcp_endpoint.lifespan if mcp_endpoint else None,
                  description="Run Patchwire pipelines over HTTP. " + ("Send `Authorization: Bearer <token>`."
                                                                       if token else "No authentication."))
    auth = [Depends(_bearer_doc)] if token else []  # enforced by ServeGuard; this documents it in OpenAPI
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_middleware(ServeGuard, token=token,  # type: ignore[arg-type]
                       extra_hosts=extra_hosts(os.environ) if allowed_hosts is None else allowed_hosts,
                       refusal_body=refusal_body)
    _add_routes(app, pipelines, runner("serve"), auth, dict(checks or {}))
    add_openai_routes(app, pipelines, runner("openai"), auth)
    if mcp_endpoint is not None:
        mcp_endpoint.mount(app)
    return app


def _mcp_endpoint(pipelines: dict[str, Pipeline], runner: Runner, max_body_bytes: int) -> Any:
    from .mcp_server import McpEndpoint  # the mcp SDK loads only when MCP is served

    tools = {name: p for name, p in pipelines.items() if p.published is None}
    try:
        return McpEndpoint(tools, runner, max_body_bytes)
    except ValueError as exc:  # two pipelines with the same tool name
        raise ServeConfigError(str(exc)) from None


def _add_routes(app: FastAPI, pipelines: dict[str, Pipeline], runner: Runner, auth: list[Any],
                checks: dict[str, HealthCheck]) -> None:
    @app.get("/healthz", tags=["service"])
    async def healthz() -> JSONResponse:
        body, status = await health_report(checks, len(pipelines))
        return JSONResponse(body, status_code=status)

    @app.get("/metrics", tags=["service"], dependencies=auth, include_in_schema=True)
    async def metrics() -> Response:
        """Prometheus metrics of this process's runs (text exposition format)."""
        from ..metrics import serve_metrics

        body, content_type = serve_metrics().exposition()
        return Response(body, media_type=content_type)

    @app.get("/v1/pipelines", tags=["pipelines"], dependencies=auth)
    async def list_pipelines() -> dict[str, Any]:
        return {"pipelines": [p.summary for p in pipelines.values()]}

    @app.get("/v1/pipelines/{name}", tags=["pipelines"], dependencies=auth)
    async def describe_pipeline(name: str) -> dict[str, Any]:
        return find_pipeline(pipelines, name).detail

    @app.post("/v1/pipelines/{name}/run", tags=["pipelines"], dependencies=auth, responses=RUN_RESPONSES,
              openapi_extra={"requestBody": {"required": True,
                                             "content": {"application/json": {"schema": RUN_BODY_SCHEMA}}}})
    async def run_pipeline(name: str, request: Request) -> Response:
        """Run the pipeline once: the result as `patchwire run --json` prints it, or its events as SSE."""
        pipeline = find_pipeline(pipelines, name)
        inputs = run_inputs(await read_body(request, runner.max_body_bytes))
        try:
            execution = execute(pipeline.plan, inputs)
        except InvalidInputs as exc:
            problems = exc.texts(lambda input_name: _missing_input_hint(pipeline, input_name))
            raise ApiError(422, f"Invalid inputs for pipeline `{name}`: {' '.join(problems)}",
                           problems=problems) from None
        # With tracing on, the run's trace is a child of the caller's (W3C trace context); else a no-op.
        continue_trace(execution.run_id, request.headers.get("traceparent"), request.headers.get("tracestate"))
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(runner.stream(pipeline, execution), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return await runner.respond(pipeline, execution, request)


RUN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The run result, as `patchwire run --json` prints it (or an event stream with "
                         "`Accept: text/event-stream`)",
          "content": {"application/json": {"schema": RUN_RESULT_SCHEMA},
                      "text/event-stream": {"schema": {"type": "string"}}}},
    500: {"description": "The run failed: the same result object, with status `failed`"},
    400: {"description": "Malformed JSON"}, 413: {"description": "Body too large"},
    422: {"description": "Missing, unknown or mistyped inputs"},
    504: {"description": "The run exceeded the request time limit and was cancelled"},
    503: {"description": "The run's record could not be stored in the database (the detail says why)"},
}


_bearer_doc = HTTPBearer(auto_error=False, description="The token set in PATCHWIRE_API_TOKEN")


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    headers = exc.extra.pop("headers", None)
    return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=headers)


def _missing_input_hint(pipeline: Pipeline, name: str) -> str:
    """How an HTTP client gives a required input."""
    return (f'add it to `inputs` in the request body, e.g. {{"inputs": {{"{name}": ...}}}} '
            f'(schema: GET {pipeline.summary["url"]}).')


def app_from_env() -> FastAPI:
    """The app described by `PATCHWIRE_SERVE_CONFIG` (set by `patchwire serve` for its worker processes)."""
    from ..loading import load_spec
    from ..log_redaction import install_log_redaction

    install_log_redaction()  # a worker process logs like `patchwire serve`: secret values masked
    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        raise ServeConfigError(f"{CONFIG_ENV} is not set; start the service with `patchwire serve SPEC`.")
    config = json.loads(raw)
    specs = [load_spec(path) for path in config["specs"]]
    registry = default_registry(config.get("plugins", []))
    published = None
    if config.get("published", False):  # the CLI printed the notes already
        published, _ = published_versions([spec.name for spec in specs], registry)
    return create_app(specs, registry, published=published,
                      max_body_bytes=config.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
                      request_timeout_s=config.get("request_timeout_s", DEFAULT_REQUEST_TIMEOUT_S),
                      consumers_for=record_consumers_for(config.get("record", True)), mcp=config.get("mcp", False),
                      checks=health_checks(config.get("record", True)))
