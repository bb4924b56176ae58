"""Streaming a chat turn as it runs: the `stream_from` node's tokens as content deltas, then the finish.

`reply_pieces` turns a run's events into `Delta`s (tokens, as they arrive) and one `Finished`; `chat_sse`
and `responses_sse` write those as OpenAI's two SSE dialects. The deltas always add up to the reply the
non-streaming call gives: when the final reply does not continue what was streamed (the model was
retried, a later node rewrote the text, or the run routed the answer elsewhere), it follows after a blank
line.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ..events import NodeChunk, NodeRetrying
from ..results import ResultCollector, RunResult
from .chat_interface import ChatMapping, reply_text, run_usage
from .openai_requests import ChatTurn, OpenAIError
from .openai_shapes import chat_chunk, message_item, response_object

__all__ = ["Delta", "Finished", "reply_pieces", "run_error", "chat_sse", "responses_sse"]


@dataclass(slots=True)
class Delta:
    text: str


@dataclass(slots=True)
class Finished:
    result: RunResult
    usage: dict[str, int]
    error: OpenAIError | None


def run_error(result: RunResult, pipeline: str, timeout_s: float) -> OpenAIError | None:
    """The OpenAI error for a run that did not succeed (500 failed, 504 cancelled at the time limit)."""
    headers = {"X-Patchwire-Run-Id": result.run_id}
    if result.status == "failed":
        message = (result.error or {}).get("message", "a node failed")
        return OpenAIError(500, f"Pipeline `{pipeline}` failed: {message} (run {result.run_id}).",
                           type="server_error", code="pipeline_failed", headers=headers)
    if result.status != "succeeded":
        return OpenAIError(504, f"Pipeline `{pipeline}` took longer than the {timeout_s:g} s request limit; the "
                                f"run was cancelled (run {result.run_id}). Raise `patchwire serve "
                                "--request-timeout`.", type="server_error", code="timeout", headers=headers)
    return None


async def reply_pieces(runner: Any, pipeline: Any, mapping: ChatMapping,
                       execution: Any) -> AsyncIterator[Delta | Finished]:
    collector = ResultCollector()
    sent: list[str] = []
    diverged = False  # the stream node was retried after it had streamed: its new tokens would repeat
    async with aclosing(runner.events(pipeline, execution)) as events:
        async for event in events:
            collector(event)
            kind = event.__class__
            if kind is NodeChunk and event.node_id == mapping.stream_from and not diverged:
                sent.append(event.text)
                yield Delta(event.text)
            elif kind is NodeRetrying and event.node_id == mapping.stream_from and sent:
                diverged = True
    result = collector.result
    assert result is not None
    error = run_error(result, pipeline.name, runner.timeout_s)
    if error is None:
        streamed, final = "".join(sent), reply_text(mapping, result, pipeline.name)
        rest = final[len(streamed):] if final.startswith(streamed) else "\n\n" + final
        if rest:
            yield Delta(rest)
    yield Finished(result, run_usage(n.outputs for n in result.nodes.values()), error)


def _data(payload: Any) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


async def chat_sse(runner: Any, pipeline: Any, mapping: ChatMapping, execution: Any, turn: ChatTurn,
                   created: int) -> AsyncIterator[str]:
    """`chat.completion.chunk` events: the role, the content deltas, the finish, the usage, `[DONE]`."""
    run_id, usage_on = execution.run_id, turn.include_usage

    def chunk(delta: dict[str, Any] | None, **extra: Any) -> str:
        return _data(chat_chunk(run_id, turn.model, created, delta, with_usage=usage_on, **extra))

    yield chunk({"role": "assistant", "content": ""})
    async with aclosing(reply_pieces(runner, pipeline, mapping, execution)) as pieces:
        async for piece in pieces:
            if isinstance(piece, Delta):
                yield chunk({"content": piece.text})
                continue
            if piece.error is not None:  # the SDKs raise on an `error` payload mid-stream
                yield _data(piece.error.body())
                return
            yield chunk({}, finish="stop")
            if usage_on:
                yield chunk(None, usage=piece.usage)
    yield "data: [DONE]\n\n"


async def responses_sse(runner: Any, pipeline: Any, mapping: ChatMapping, execution: Any, turn: ChatTurn,
                        created: int) -> AsyncIterator[str]:
    """The Responses API's semantic events, from `response.created` to `response.completed` (or failed)."""
    run_id, numbers = execution.run_id, itertools.count()
    item_id = f"msg_{run_id}"
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}

    def event(kind: str, **payload: Any) -> str:
        body = json.dumps({"type": kind, "sequence_number": next(numbers), **payload}, ensure_ascii=False,
                          separators=(",", ":"))
        return f"event: {kind}\ndata: {body}\n\n"

    def response(status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return response_object(run_id, turn.model, created, status=status, output=output, **extra)

    yield event("response.created", response=response("in_progress", []))
    yield event("response.in_progress", response=response("in_progress", []))
    yield event("response.output_item.added", output_index=0, item=message_item(run_id, "", "in_progress"))
    yield event("response.content_part.added", part=_text_part(""), **where)
    text: list[str] = []
    async with aclosing(reply_pieces(runner, pipeline, mapping, execution)) as pieces:
        async for piece in pieces:
            if isinstance(piece, Delta):
                text.append(piece.text)
                yield event("response.output_text.delta", delta=piece.text, logprobs=[], **where)
                continue
            if piece.error is not None:
                failure = {"code": "server_error", "message": piece.error.message}
                yield event("response.failed", response=response("failed", [], error=failure))
                return
            full = "".join(text)
            item = message_item(run_id, full, "completed")
            yield event("response.output_text.done", text=full, logprobs=[], **where)
            yield event("response.content_part.done", part=_text_part(full), **where)
            yield event("response.output_item.done", output_index=0, item=item)
            yield event("response.completed", response=response("completed", [item], usage=piece.usage))


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
