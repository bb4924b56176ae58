"""OpenAI-compatible endpoints on `patchwire serve`: every served pipeline is a model `patchwire/<name>`.

- `GET /v1/models` (and `/v1/models/{id}`): the pipelines, each saying whether it can chat and if not, why;
  a pipeline's published version is the model `patchwire/<name>@published` (served.py).
- `POST /v1/chat/completions`: the last user message goes to the pipeline's chat input (see
  chat_interface.py), the chosen output comes back as the assistant message; `stream: true` sends the
  `stream_from` node's tokens as `chat.completion.chunk`s while the model writes, then `[DONE]`.
- `POST /v1/responses`: the Responses API, text in and out, streamed as its semantic events.

`usage` is the run's total over every model call. The run id is in the `X-Patchwire-Run-Id` header and in
the ids (`chatcmpl-<run id>`, `resp_<run id>`). Errors are OpenAI error objects: 400 bad request, 401 bad
token (from the guard), 404 unknown model, 413 body too large, 500 the run failed, 504 over the time limit.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..api import execute
from ..issues import InvalidInputs
from .bodies import read_body
from .chat_interface import ChatMapping, chat_inputs, chat_mapping, reply_text, run_usage
from .openai_requests import ChatTurn, OpenAIError, chat_turn, parse_json_body, responses_turn
from .openai_shapes import chat_completion, message_item, model_entry, response_object
from .openai_stream import chat_sse, responses_sse, run_error
from .runner import ApiError, Pipeline
from .served import unpublished_note

__all__ = ["add_openai_routes", "refusal_body", "OPENAI_PATHS", "RUN_ID_HEADER", "MODEL_PREFIX"]

OPENAI_PATHS = ("/v1/models", "/v1/chat/completions", "/v1/responses")
RUN_ID_HEADER = "X-Patchwire-Run-Id"
MODEL_PREFIX = "patchwire/"
_GUARD_CODES = {400: "host_not_allowed", 401: "invalid_api_key", 403: "cross_site_request",
                415: "unsupported_media_type"}


def refusal_body(path: str, status: int, message: str) -> dict[str, Any]:
    """The guard's refusals in OpenAI's error shape on the OpenAI routes (SDKs read `error.message`)."""
    if path.startswith(OPENAI_PATHS):
        return {"error": {"message": message, "type": "invalid_request_error", "param": None,
                          "code": _GUARD_CODES.get(status)}}
    return {"detail": message}


class _Models:
    """The served pipelines as models, with each one's chat mapping or the reason it has none."""

    def __init__(self, pipelines: dict[str, Pipeline]):
        self.pipelines = pipelines
        self.mappings = {name: chat_mapping(p.plan) for name, p in pipelines.items()}
        self.created = int(time.time())

    def entries(self) -> list[dict[str, Any]]:
        return [self.entry(name) for name in self.pipelines]

    def entry(self, name: str) -> dict[str, Any]:
        mapping = self.mappings[name]
        return model_entry(name, self.created, mapping if isinstance(mapping, str) else None,
                           self.pipelines[name].published)

    def find(self, model: str) -> str:
        name = model.removeprefix(MODEL_PREFIX)
        if name not in self.pipelines:
            served = ", ".join(f"`{MODEL_PREFIX}{n}`" for n in self.pipelines)
            raise OpenAIError(404, f"The model `{model}` does not exist or you do not have access to it"
                                   f"{unpublished_note(self.pipelines, name)}. Served models: {served}.",
                              param="model", code="model_not_found")
        return name

    def chat(self, model: str) -> tuple[Pipeline, ChatMapping]:
        name = self.find(model)
        mapping = self.mappings[name]
        if isinstance(mapping, str):
            raise OpenAIError(400, f"The model `{model}` (pipeline `{name}`) cannot be used for chat: {mapping}",
                              param="model", code="model_not_chat_compatible")
        return self.pipelines[name], mapping


def add_openai_routes(app: FastAPI, pipelines: dict[str, Pipeline], runner: Any, auth: list[Any]) -> None:
    models = _Models(pipelines)
    app.add_exception_handler(OpenAIError, _openai_error)  # type: ignore[arg-type]

    @app.get("/v1/models", tags=["openai"], dependencies=auth)
    async def list_models() -> dict[str, Any]:
        """Every served pipeline as an OpenAI model `patchwire/<name>`."""
        return {"object": "list", "data": models.entries()}

    @app.get("/v1/models/{model:path}", tags=["openai"], dependencies=auth)
    async def retrieve_model(model: str) -> dict[str, Any]:
        return models.entry(models.find(model))

    @app.post("/v1/chat/completions", tags=["openai"], dependencies=auth, openapi_extra=_BODY)
    async def chat_completions(request: Request) -> Response:
        """OpenAI chat completions: `model` picks the pipeline, the last user message is its input."""
        turn = chat_turn(parse_json_body(await _body(request, runner.max_body_bytes)))
        return await _answer(runner, models, turn, request, chat=True)

    @app.post("/v1/responses", tags=["openai"], dependencies=auth, openapi_extra=_BODY)
    async def responses(request: Request) -> Response:
        """The OpenAI Responses API (text in, text out) on the same mapping as chat completions."""
        turn = responses_turn(parse_json_body(await _body(request, runner.max_body_bytes)))
        return await _answer(runner, models, turn, request, chat=False)


_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await read_body(request, limit)
    except ApiError as exc:
        raise OpenAIError(exc.status, exc.detail, code="request_too_large") from None


async def _answer(runner: Any, models: _Models, turn: ChatTurn, request: Request, *, chat: bool) -> Response:
    pipeline, mapping = models.chat(turn.model)
    try:
        execution = execute(pipeline.plan, chat_inputs(mapping, turn.message, turn.earlier))
    except InvalidInputs as exc:
        raise OpenAIError(400, f"Invalid input for pipeline `{pipeline.name}`: {' '.join(exc.problems)}",
                          param="messages" if chat else "input", code="invalid_value") from None
    headers = {RUN_ID_HEADER: execution.run_id}
    created = int(time.time())
    if turn.stream:
        writer = chat_sse if chat else responses_sse
        return StreamingResponse(writer(runner, pipeline, mapping, execution, turn, created),
                                 media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    result, _, unstored = await runner.collect(pipeline, execution, request)
    error = run_error(result, pipeline.name, runner.timeout_s)
    if error is not None:
        raise error
    if unstored:  # never a 200 that lost the run's record
        raise OpenAIError(503, f"Pipeline `{pipeline.name}` ran, but its run record was not stored: {unstored}. "
                               "Check the database (GET /healthz).", type="server_error", code="record_not_stored")
    text = reply_text(mapping, result, pipeline.name)
    usage = run_usage(node.outputs for node in result.nodes.values())
    if chat:
        payload = chat_completion(result.run_id, turn.model, created, text, usage)
    else:
        payload = response_object(result.run_id, turn.model, created, status="completed",
                                  output=[message_item(result.run_id, text, "completed")], usage=usage)
    return Response(json.dumps(payload, ensure_ascii=False).encode(), media_type="application/json",
                    headers=headers)


async def _openai_error(request: Request, exc: OpenAIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
