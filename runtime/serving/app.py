"""`patchwire serve`: pipelines as an HTTP service (FastAPI).

    app = create_app([spec_a, spec_b], registry, api_token="...")

- `POST /v1/pipelines/{name}/run` with `{"inputs": {...}}` answers with exactly the `patchwire run --json`
  object (200 succeeded, 500 failed); with `Accept: text/event-stream` it streams every run event (node
  events and model tokens) as server-sent events, in order.
- `GET /v1/pipelines`, `GET /v1/pipelines/{name}` (the spec and the JSON Schema of inputs and outputs),
  `GET /healthz`, OpenAPI docs at `/docs`.
- OpenAI-compatible `/v1/models`, `/v1/chat/completions`, `/v1/responses` (openai_api.py) and, with
  `mcp=True`, the pipelines as MCP tools at `/mcp` (mcp_server.py), all behind the same gate.
- Every request passes `ServeGuard` (guard.py): the bearer token when one is configured, else a Host
  allow-list and no cross-site callers; `application/json` bodies only. A body size limit (413) and a
  per-request time limit (504, the run is cancelled); a client that goes away cancels its run; bad input
  gets a 4xx naming the problem.
- A run whose record could not be stored answers 503 naming the database problem, never a silent 200;
  `/healthz` reports each of `checks` (the database) and answers 503 while one fails (records.py).

Stateless: plans are compiled once at startup and nothing is kept between requests, so any number of
processes can sit behind a load balancer. Each run is one event stream with several consumers (the
result collector, the SSE writer, and whatever `consumers` adds, e.g. a run recorder).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer

from ..api import compile as compile_plan
from ..api import execute
from ..consumers import ConsumerFactory
from ..events import event_to_dict
from ..http_guard import extra_hosts, token_problem
from ..issues import InvalidInputs
from ..plan import Plan
from ..registry import Registry, default_registry
from ..results import ResultCollector, RunResult
from ..spec import PipelineSpec
from ..tracing import continue_trace
from .guard import ServeGuard
from .records import HealthCheck, health_checks, health_report, receipt, unrecorded
from .schema import RUN_BODY_SCHEMA, RUN_RESULT_SCHEMA, inputs_schema, outputs_schema

__all__ = ["create_app", "app_from_env", "ServeConfigError", "ConsumerFactory", "DEFAULT_MAX_BODY_BYTES",
           "DEFAULT_REQUEST_TIMEOUT_S", "CONFIG_ENV"]

log = logging.getLogger("patchwire.serve")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 300.0
CONFIG_ENV = "PATCHWIRE_SERVE_CONFIG"  # how `patchwire serve --workers N` hands its settings to workers
TOKEN_ENV = "PATCHWIRE_API_TOKEN"
# FastAPI's built-in OpenTelemetry hooks, all off: the service reports to no one (FASTAPI_OTEL_* ignored).
NO_TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                     "auto_configure": False}
_END = object()


class ServeConfigError(ValueError):
    """The service cannot start: duplicate pipeline names, no pipelines, a bad setting."""


class ApiError(Exception):
    """An HTTP error answered as `{"detail": message, ...extra}`."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


@dataclass(slots=True)
class Pipeline:
    name: str
    plan: Plan
    summary: dict[str, Any]
    detail: dict[str, Any]


def create_app(specs: Sequence[PipelineSpec], registry: Registry | None = None, *, api_token: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
               consumers: Sequence[ConsumerFactory] = (), allowed_hosts: Collection[str] | None = None,
               checks: Mapping[str, HealthCheck] | None = None,
               consumers_for: Callable[[str], Sequence[ConsumerFactory]] | None = None,
               mcp: bool = False) -> FastAPI:
    """The FastAPI app serving `specs` (compiled now; raises `InvalidSpec` or `ServeConfigError`).

    `api_token`: required bearer token; None reads `PATCHWIRE_API_TOKEN` (unset or empty: no auth).
    `allowed_hosts`: `Host` names accepted besides loopback when there is no token; None reads
    `PATCHWIRE_ALLOWED_HOSTS`. `checks`: what `/healthz` reports, e.g. `{"database": database_status}`.
    `consumers` get the events of every run; `consumers_for(source)` adds consumers per route family
    (`serve`, `openai`, `mcp`), e.g. run recorders that store the source. `mcp`: also answer MCP
    (Streamable HTTP) at `/mcp`.
    """
    if max_body_bytes <= 0 or request_timeout_s <= 0:
        raise ServeConfigError("max_body_bytes and request_timeout_s must be positive.")
    token = api_token if api_token is not None else os.environ.get(TOKEN_ENV) or None
    if weak := token_problem(TOKEN_ENV, token):
        raise ServeConfigError(weak)
    pipelines = _compile_all(specs, registry if registry is not None else default_registry())
    from .openai_api import add_openai_routes, refusal_body  # it builds on this module

    def runner(source: str) -> _Runner:
        extra = tuple(consumers_for(source)) if consumers_for is not None else ()
        return _Runner(request_timeout_s, (*consumers, *extra), max_body_bytes)

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


def _mcp_endpoint(pipelines: dict[str, Pipeline], runner: _Runner, max_body_bytes: int) -> Any:
    from .mcp_server import McpEndpoint  # the mcp SDK loads only when MCP is served

    try:
        return McpEndpoint(pipelines, runner, max_body_bytes)
    except ValueError as exc:  # two pipelines with the same tool name
        raise ServeConfigError(str(exc)) from None


def _add_routes(app: FastAPI, pipelines: dict[str, Pipeline], runner: _Runner, auth: list[Any],
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
        return _find(pipelines, name).detail

    @app.post("/v1/pipelines/{name}/run", tags=["pipelines"], dependencies=auth, responses=RUN_RESPONSES,
              openapi_extra={"requestBody": {"required": True,
                                             "content": {"application/json": {"schema": RUN_BODY_SCHEMA}}}})
    async def run_pipeline(name: str, request: Request) -> Response:
        """Run the pipeline once: the result as `patchwire run --json` prints it, or its events as SSE."""
        pipeline = _find(pipelines, name)
        inputs = _run_inputs(await _read_body(request, runner.max_body_bytes))
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


def _compile_all(specs: Sequence[PipelineSpec], registry: Registry) -> dict[str, Pipeline]:
    if not specs:
        raise ServeConfigError("No pipelines to serve: give at least one spec file.")
    pipelines: dict[str, Pipeline] = {}
    for spec in specs:
        if spec.name in pipelines:
            raise ServeConfigError(f"Two specs are named `{spec.name}`; pipelines are served by their `name`. "
                                   "Rename one of them (the `name` field of the spec).")
        plan = compile_plan(spec, registry)
        pipelines[spec.name] = Pipeline(spec.name, plan, *_descriptions(plan))
    return pipelines


def _descriptions(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    from ..export.spec_files import spec_document

    spec = plan.spec
    url = f"/v1/pipelines/{spec.name}"
    summary = {"name": spec.name, "description": spec.description, "inputs": list(plan.inputs),
               "outputs": list(plan.output_ids), "url": url, "run_url": f"{url}/run"}
    document, _ = spec_document(spec)
    detail = {**summary, "spec": document, "inputs_schema": inputs_schema(plan),
              "outputs_schema": outputs_schema(plan)}
    return summary, detail


def _find(pipelines: dict[str, Pipeline], name: str) -> Pipeline:
    pipeline = pipelines.get(name)
    if pipeline is None:
        known = ", ".join(f"`{n}`" for n in pipelines)
        raise ApiError(404, f"No pipeline named `{name}`. Served pipelines: {known}.")
    return pipeline


_bearer_doc = HTTPBearer(auto_error=False, description="The token set in PATCHWIRE_API_TOKEN")


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    headers = exc.extra.pop("headers", None)
    return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise _too_large(int(declared), limit)
        return await request.body()  # the server stops reading at the declared length
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"Request body too large: {size} bytes, the limit is {limit} bytes. Send large data "
                         "by reference (an id or a URL), or raise the limit with --max-body-bytes.")


def _run_inputs(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_constant=_not_json) if body.strip() else None
    except UnicodeDecodeError:
        raise ApiError(400, "Malformed JSON: the body is not UTF-8 text.") from None
    except _NotJson as exc:
        raise ApiError(400, f"Malformed JSON: `{exc}` is not a JSON value (JSON has no NaN or Infinity). Send "
                            "a finite number, or null.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. The body must "
                            'be a JSON object like {"inputs": {"query": "..."}}.') from None
    if data is None:
        raise ApiError(400, 'Empty body: send a JSON object like {"inputs": {"query": "..."}}.')
    if not isinstance(data, dict) or not isinstance(data.get("inputs", {}), dict):
        raise ApiError(422, 'The body must be a JSON object with an object `inputs`, like '
                            '{"inputs": {"query": "..."}}.')
    unknown = sorted(set(data) - {"inputs"})
    if unknown:
        raise ApiError(422, f"Unknown body field(s) {', '.join(f'`{k}`' for k in unknown)}: the body has only "
                            "`inputs`.")
    return data.get("inputs", {})


class _NotJson(Exception):
    """`NaN`, `Infinity` or `-Infinity` in a body: Python's json reads them, JSON does not have them."""


def _not_json(constant: str) -> Any:
    raise _NotJson(constant)


def _missing_input_hint(pipeline: Pipeline, name: str) -> str:
    """How an HTTP client gives a required input."""
    return (f'add it to `inputs` in the request body, e.g. {{"inputs": {{"{name}": ...}}}} '
            f'(schema: GET {pipeline.summary["url"]}).')


class _Runner:
    """Drives one execution: one event stream fanned out to several consumers, under a time limit."""

    def __init__(self, timeout_s: float, factories: tuple[ConsumerFactory, ...], max_body_bytes: int):
        self.timeout_s = timeout_s
        self.factories = factories
        self.max_body_bytes = max_body_bytes

    def _consumers(self, pipeline: Pipeline, execution: Any,
                   first: Callable[[Any], None]) -> tuple[list[Callable], list[Awaitable[None]]]:
        """The run's consumers (the budget guard when the pipeline has a budget), and the receipts of those
        that keep records (records.py)."""
        from ..budget import guard_for

        run_id, guard = execution.run_id, guard_for(execution)
        consumers, receipts = [first], []
        for factory in self.factories:
            try:
                consumer = factory(pipeline.plan, run_id)
                if (promise := receipt(consumer, run_id)) is not None:
                    receipts.append(promise)
                consumers.append(_guarded(consumer))
            except Exception:
                log.exception("event consumer factory %r failed; run %s is not recorded by it", factory, run_id)
        if guard is not None:
            consumers.append(guard)  # last: it may stop the run while an event is handed out
        return consumers, receipts

    async def pump(self, execution: Any, consumers: list[Callable[[Any], None]],
                   gone: asyncio.Future | None = None) -> bool:
        """Feed every event to every consumer; cancel the run on timeout or when `gone` (the client left)
        completes. Returns True when it timed out."""
        running = asyncio.ensure_future(execution.consume(*consumers))
        try:
            done, _ = await asyncio.wait([running, *([gone] if gone else [])], timeout=self.timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the request itself went away
            execution.cancel("the request was cancelled")
            await asyncio.wait([running], timeout=5)
            raise
        if running in done:
            running.result()
            return False
        execution.cancel("the client disconnected" if done else
                         f"the request took longer than its {self.timeout_s:g} s limit")
        await running
        return not done

    async def collect(self, pipeline: Pipeline, execution: Any,
                      request: Request) -> tuple[RunResult, bool, str | None]:
        """Run to the end (or the time limit, or the client leaving): the result, whether it timed out, and
        why its run record was not stored (None when it was, or nothing records)."""
        collector = ResultCollector()
        consumers, receipts = self._consumers(pipeline, execution, collector)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            timed_out = await self.pump(execution, consumers, gone)
        finally:
            gone.cancel()
        assert collector.result is not None
        return collector.result, timed_out, None if timed_out else await unrecorded(receipts)

    async def respond(self, pipeline: Pipeline, execution: Any, request: Request) -> Response:
        result, timed_out, problem = await self.collect(pipeline, execution, request)
        if timed_out:
            raise ApiError(504, f"Pipeline `{pipeline.name}` took longer than the {self.timeout_s:g} s request "
                                "limit; the run was cancelled. Raise --request-timeout, or run long jobs with "
                                "`patchwire batch`.", run_id=result.run_id)
        if problem:
            raise ApiError(503, f"Pipeline `{pipeline.name}` ran (status {result.status}), but its run record was "
                                f"not stored: {problem}. The result is in `result`; check the database "
                                "(GET /healthz).", run_id=result.run_id, result=result.to_json())
        body = json.dumps(result.to_json(), ensure_ascii=False).encode()
        return Response(body, status_code=200 if result.status == "succeeded" else 500,
                        media_type="application/json")

    async def events(self, pipeline: Pipeline, execution: Any,
                     on_unrecorded: Callable[[str], None] | None = None) -> AsyncIterator[Any]:
        """Every run event as it happens; a consumer that stops early (the client left) cancels the run.
        `on_unrecorded(problem)` hears, after the last event, that the run record was not stored."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        consumers, receipts = self._consumers(pipeline, execution, queue.put_nowait)
        task = asyncio.create_task(self.pump(execution, consumers))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while (event := await queue.get()) is not _END:
                yield event
            if on_unrecorded is not None and (problem := await unrecorded(receipts)):
                on_unrecorded(problem)
        finally:  # the client went away, or the stream ended
            if not task.done():
                execution.cancel("the client disconnected")
                await asyncio.wait([task], timeout=5)

    async def stream(self, pipeline: Pipeline, execution: Any) -> AsyncIterator[str]:
        """Server-sent events: `event: <kind>` and `data: <event as JSON>` per run event, in order."""
        problems: list[str] = []
        async for event in self.events(pipeline, execution, problems.append):
            data = json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
            yield f"event: {event.kind}\ndata: {data}\n\n"
        for problem in problems:  # the status line went out long ago: the last event says it
            data = json.dumps({"run_id": execution.run_id, "detail": f"The run record was not stored: {problem}"})
            yield f"event: record_error\ndata: {data}\n\n"


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone away (the body is read by now, so only `http.disconnect` is left)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _guarded(consume: Callable[[Any], None]) -> Callable[[Any], None]:
    failed = False

    def guarded(event: Any) -> None:
        nonlocal failed
        if failed:
            return
        try:
            consume(event)
        except Exception:
            failed = True
            log.exception("event consumer %r failed; it gets no further events of this run", consume)

    return guarded


def app_from_env() -> FastAPI:
    """The app described by `PATCHWIRE_SERVE_CONFIG` (set by `patchwire serve` for its worker processes)."""
    from ..loading import load_spec

    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        raise ServeConfigError(f"{CONFIG_ENV} is not set; start the service with `patchwire serve SPEC`.")
    config = json.loads(raw)
    specs = [load_spec(path) for path in config["specs"]]
    from ..cli.serve import record_consumers_for

    return create_app(specs, default_registry(config.get("plugins", [])),
                      max_body_bytes=config.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES),
                      request_timeout_s=config.get("request_timeout_s", DEFAULT_REQUEST_TIMEOUT_S),
                      consumers_for=record_consumers_for(config.get("record", True)), mcp=config.get("mcp", False),
                      checks=health_checks(config.get("record", True)))
