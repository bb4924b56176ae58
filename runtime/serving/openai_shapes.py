"""The JSON objects of OpenAI's API that `patchwire serve` answers with (pure builders, no I/O).

`chat.completion`, `chat.completion.chunk`, the Responses API `response` object and its stream events,
usage in both dialects. Ids derive from the run id, so a reply can be traced to its run record.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chat_completion", "chat_chunk", "response_object", "message_item", "responses_usage", "model_entry"]


def chat_completion(run_id: str, model: str, created: int, content: str, usage: dict[str, int]) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    return {"id": f"chatcmpl-{run_id}", "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": usage, "service_tier": None, "system_fingerprint": None}


def chat_chunk(run_id: str, model: str, created: int, delta: dict[str, Any] | None, *,
               finish: str | None = None, usage: dict[str, int] | None = None,
               with_usage: bool = False) -> dict[str, Any]:
    """One `chat.completion.chunk`; `delta=None` is the usage chunk (no choices). With `with_usage` every
    chunk carries `usage` (null until the last one), as OpenAI sends them with `include_usage`."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    chunk = {"id": f"chatcmpl-{run_id}", "object": "chat.completion.chunk", "created": created, "model": model,
             "service_tier": None, "system_fingerprint": None, "choices": choices}
    if with_usage:
        chunk["usage"] = usage
    return chunk


def message_item(run_id: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if status != "in_progress" \
        else []
    return {"id": f"msg_{run_id}", "type": "message", "status": status, "role": "assistant", "content": content}


def response_object(run_id: str, model: str, created: int, *, status: str, output: list[dict[str, Any]],
                    usage: dict[str, int] | None = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": f"resp_{run_id}", "object": "response", "created_at": created, "status": status,
            "model": model, "output": output, "error": error, "incomplete_details": None, "instructions": None,
            "metadata": {}, "parallel_tool_calls": False, "temperature": None, "top_p": None,
            "tool_choice": "none", "tools": [], "text": {"format": {"type": "text"}},
            "usage": responses_usage(usage) if usage is not None else None}


def responses_usage(usage: dict[str, int]) -> dict[str, Any]:
    return {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}}


def model_entry(name: str, created: int, reason: str | None,
                published: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `model` object for `GET /v1/models`, with what Patchwire knows about the pipeline behind it
    (`published`: the saved pipeline and version behind `<name>@published`)."""
    about: dict[str, Any] = {"pipeline": name, "chat": reason is None, "run_url": f"/v1/pipelines/{name}/run"}
    if reason is not None:
        about["reason"] = reason
    if published is not None:
        about["published"] = published
    return {"id": f"patchwire/{name}", "object": "model", "created": created, "owned_by": "patchwire",
            "patchwire": about}
