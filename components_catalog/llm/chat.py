"""`llm.chat`: one chat completion through `model_calls.call_model` (litellm, one retry layer, recorded
under `model_calls`), with an optional context block and an optional structured (JSON) reply.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from components_catalog.llm.bases import api_base_warnings
from components_catalog.llm.calls import ModelRequest, call_model
from components_catalog.llm.params import (
    ModelParams,
    api_base_field,
    api_key_env_field,
    chat_messages,
    multiline,
    render_context,
    user_message,
)
from components_catalog.llm.structured_output import (
    json_schema_format,
    parse_json_reply,
    schema_definition_problem,
)
from components_catalog.types import Document, TokenUsage
from runtime import Component, RunContext, component
from runtime.component import ParamWarning

__all__ = ["ChatParams", "ChatInputs", "ChatOutputs", "ChatCompletion"]


class ChatParams(ModelParams):
    system_prompt: str = multiline("", "System message (empty: none)")
    max_tokens: int | None = Field(512, ge=1, description="Longest reply in tokens (empty: the model's limit)")
    response_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema for a structured reply: the model must answer with matching JSON, "
                          "parsed onto the `data` port (empty: plain text)")
    fallbacks: list[str] = Field(default_factory=list,
                                 description="Models tried in order when the model fails transiently (rate "
                                             "limit, server error, timeout); each call is recorded")
    timeout_s: float = Field(60, gt=0, description="Seconds to wait for the model per call")
    stream: bool = Field(True, description="Stream tokens to the editor while the model writes")
    api_base: str | None = api_base_field()
    api_key_env: str | None = api_key_env_field()

    @field_validator("response_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = schema_definition_problem(schema) if schema else None
        if problem:
            raise ValueError(f"not a valid JSON Schema: {problem}")
        return schema or None  # {}: plain text, as the description says


class ChatInputs(BaseModel):
    prompt: str = Field(description="The user message (the question or instruction)")
    context: str | list[Document] | None = Field(
        None, description="Text or retrieved documents, sent as a delimited context block before the prompt")


class ChatOutputs(BaseModel):
    text: str = Field(description="The model's reply")
    usage: TokenUsage = Field(description="Tokens, cost and calls (fallbacks included)")
    data: Any = Field(default=None, description="The reply parsed as JSON; fires only when `response_schema` is set")


@component(id="llm.chat", version=1, title="Chat completion", category="Models")
class ChatCompletion(Component):
    """Send the prompt (with optional context) to a model through litellm and return its reply.

    Tokens stream to the editor; every call (messages, params, reply, usage, cost, latency) is recorded.
    With `response_schema` the reply must be JSON matching it; it is parsed onto `data`.
    """

    params: ChatParams

    @classmethod
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        assert isinstance(params, ChatParams)
        return api_base_warnings(params.model, params.api_base)

    async def run(self, inputs: ChatInputs, ctx: RunContext) -> ChatOutputs:
        p = self.params
        schema = p.response_schema
        messages = chat_messages(p.system_prompt, user_message(inputs.prompt, render_context(inputs.context)))
        response_format = json_schema_format(str(schema.get("title", "response")), schema) if schema else None
        request = ModelRequest(model=p.model, messages=messages, temperature=p.temperature, max_tokens=p.max_tokens,
                               timeout_s=p.timeout_s, stream=p.stream, response_format=response_format,
                               api_base=p.api_base, api_key_env=p.api_key_env, fallbacks=tuple(p.fallbacks))
        reply = await call_model(ctx, request)
        if schema is None:
            return ChatOutputs(text=reply.text, usage=reply.usage)
        data = parse_json_reply(reply.text, schema, reply.model)
        return ChatOutputs(text=reply.text, usage=reply.usage, data=data)
