"""Reading OpenAI request bodies (`chat/completions`, `responses`) into one chat turn, with OpenAI's errors.

Parameters a pipeline cannot honour and whose loss would change the answer's meaning (several choices,
log probabilities, JSON modes, forced tool calls, audio, stored conversations) are refused with a 400 naming
the parameter; sampling knobs (`temperature`, `max_tokens`, ...) are accepted and left to the pipeline's own
model params; names OpenAI does not know are refused as OpenAI refuses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .chat_interface import ChatMessage

__all__ = ["OpenAIError", "ChatTurn", "parse_json_body", "chat_turn", "responses_turn", "CHAT_PARAMS",
           "RESPONSES_PARAMS"]

CHAT_PARAMS = frozenset({
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier", "stop", "store",
    "stream", "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user",
    "verbosity", "web_search_options"})
RESPONSES_PARAMS = frozenset({
    "model", "input", "instructions", "stream", "stream_options", "access_programs", "background",
    "background_options", "context_management", "conversation", "image", "include", "max_output_tokens",
    "max_tool_calls", "metadata", "moderation", "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier",
    "service_tier", "store", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p",
    "truncation", "user"})
TEXT_PARTS = ("text", "input_text", "output_text")
ROLES = ("system", "developer", "user", "assistant", "tool", "function")


class OpenAIError(Exception):
    """Answered as OpenAI answers errors: `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


@dataclass(slots=True)
class ChatTurn:
    """What one request asks: the pipeline (by model id), the message, what came before, and how to answer."""

    model: str
    message: str
    earlier: list[ChatMessage] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False


def parse_json_body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw, parse_constant=_not_json) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise OpenAIError(400, "We could not parse the JSON body of your request: send a JSON object like "
                               '{"model": "patchwire/<pipeline>", "messages": [{"role": "user", "content": "..."}]}.')
    return data


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def chat_turn(body: dict[str, Any]) -> ChatTurn:
    """A `POST /v1/chat/completions` body as a chat turn; raises `OpenAIError` (400) naming the parameter."""
    _check_known(body, CHAT_PARAMS)
    model = _model(body)
    messages = _required(body, "messages", list, "an array")
    if not messages:
        raise OpenAIError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                          param="messages", code="empty_array")
    parsed = [_message(m, f"messages[{i}]") for i, m in enumerate(messages)]
    _refuse_chat_options(body)
    stream = _flag(body, "stream")
    return ChatTurn(model, *_split_last_user(parsed, "messages"), stream=stream,
                    include_usage=_include_usage(body, stream))


def responses_turn(body: dict[str, Any]) -> ChatTurn:
    """A `POST /v1/responses` body (text in, text out) as a chat turn."""
    _check_known(body, RESPONSES_PARAMS)
    model = _model(body)
    given = body.get("input")
    if isinstance(given, str):
        parsed = [ChatMessage("user", given)]
    elif isinstance(given, list) and given:
        parsed = [_input_item(item, f"input[{i}]") for i, item in enumerate(given)]
    else:
        raise OpenAIError(400, "Missing required parameter: 'input' (a string, or an array of messages).",
                          param="input", code="missing_required_parameter")
    _refuse_responses_options(body)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _invalid_type("instructions", "a string", instructions)
    message, earlier = _split_last_user(parsed, "input")
    if instructions:
        earlier.insert(0, ChatMessage("system", instructions))
    stream = _flag(body, "stream")
    return ChatTurn(model, message, earlier, stream=stream, include_usage=True)


def _check_known(body: dict[str, Any], known: frozenset[str]) -> None:
    for name in body:
        if name not in known:
            raise OpenAIError(400, f"Unrecognized request argument supplied: {name}", param=name,
                              code="unknown_parameter")


def _model(body: dict[str, Any]) -> str:
    return _required(body, "model", str, "a string")


def _required(body: dict[str, Any], name: str, kind: type, label: str) -> Any:
    if name not in body or body[name] is None:
        raise OpenAIError(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    if not isinstance(body[name], kind):
        raise _invalid_type(name, label, body[name])
    return body[name]


def _invalid_type(name: str, label: str, value: Any) -> OpenAIError:
    got = {str: "a string", list: "an array", dict: "an object", bool: "a boolean", int: "an integer",
           float: "a number"}.get(type(value), "null" if value is None else type(value).__name__)
    return OpenAIError(400, f"Invalid type for '{name}': expected {label}, but got {got} instead.", param=name,
                       code="invalid_type")


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _invalid_type(name, "a boolean", value)
    return bool(value)


def _include_usage(body: dict[str, Any], stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise _invalid_type("stream_options", "an object", options)
    if not stream:
        raise OpenAIError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                          param="stream_options", code="invalid_value")
    return bool(options.get("include_usage"))


def _message(message: Any, where: str) -> ChatMessage:
    if not isinstance(message, dict):
        raise _invalid_type(where, "an object", message)
    role = message.get("role")
    if role not in ROLES:
        raise OpenAIError(400, f"Invalid value for '{where}.role': expected one of {', '.join(ROLES)}, got "
                               f"{json.dumps(role)}.", param=f"{where}.role", code="invalid_value")
    return ChatMessage(role, _content_text(message.get("content"), f"{where}.content"))


def _input_item(item: Any, where: str) -> ChatMessage:
    if isinstance(item, dict) and item.get("type", "message") == "message":
        return _message(item, where)
    kind = item.get("type") if isinstance(item, dict) else type(item).__name__
    raise OpenAIError(400, f"Unsupported input item at '{where}' (type `{kind}`): a Patchwire pipeline takes text "
                           "messages only ({\"role\": ..., \"content\": ...}).", param=where, code="invalid_value")


def _content_text(content: Any, where: str) -> str:
    """A message's text: a string, or text parts joined; other parts (images, audio, files) are refused."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise _invalid_type(where, "a string or an array of content parts", content)
    texts = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in TEXT_PARTS or not isinstance(part.get("text"), str):
            raise OpenAIError(400, f"Unsupported content part at '{where}[{i}]' (type `{kind}`): Patchwire "
                                   "pipelines take text only.", param=f"{where}[{i}]", code="invalid_value")
        texts.append(part["text"])
    return "\n".join(texts)


def _split_last_user(messages: list[ChatMessage], param: str) -> tuple[str, list[ChatMessage]]:
    if messages[-1].role != "user":
        raise OpenAIError(400, f"The last message must be a `user` message (got `{messages[-1].role}`): the "
                               "pipeline answers the last user message, and takes no tool results.",
                          param=param, code="invalid_value")
    return messages[-1].content, messages[:-1]


def _refuse(param: str, why: str) -> OpenAIError:
    return OpenAIError(400, f"Unsupported parameter: '{param}' {why} with a Patchwire pipeline.", param=param,
                       code="unsupported_parameter")


def _refuse_chat_options(body: dict[str, Any]) -> None:
    if body.get("n") not in (None, 1):
        raise _refuse("n", "must be 1: a pipeline run gives one answer,")
    if body.get("logprobs") or body.get("top_logprobs"):
        raise _refuse("logprobs" if body.get("logprobs") else "top_logprobs", "is not available")
    fmt = body.get("response_format")
    if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") != "text"):
        raise _refuse("response_format", "other than `text` is not available (the spec decides the output)")
    if body.get("audio") is not None or "audio" in (body.get("modalities") or []):
        raise _refuse("audio" if body.get("audio") is not None else "modalities", "(audio) is not available")
    _refuse_forced_tools(body.get("tool_choice"), "tool_choice")
    if isinstance(body.get("function_call"), dict):
        raise _refuse("function_call", "cannot force a call: the pipeline calls no client functions")


def _refuse_forced_tools(choice: Any, param: str) -> None:
    if choice is not None and choice not in ("auto", "none"):
        raise _refuse(param, "cannot force a tool call: the pipeline calls no client tools")


def _refuse_responses_options(body: dict[str, Any]) -> None:
    for name in ("previous_response_id", "conversation", "prompt", "context_management"):
        if body.get(name) is not None:
            raise _refuse(name, "needs stored responses, which Patchwire does not keep: send the whole "
                                "conversation in `input`,")
    if body.get("background"):
        raise _refuse("background", "(background responses) is not available")
    if body.get("include"):
        raise _refuse("include", "(extra output data) is not available")
    if body.get("top_logprobs"):
        raise _refuse("top_logprobs", "is not available")
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") != "text"):
        raise _refuse("text.format", "other than `text` is not available (the spec decides the output)")
    _refuse_forced_tools(body.get("tool_choice"), "tool_choice")
