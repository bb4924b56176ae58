"""`text.rewrite`: rewrite a follow-up question into a standalone search query with a model.

The default model `local/extractive` is an offline extractive stand-in, not an LLM: it cannot rewrite, so
the record under `rewrite` says how the query was expanded (or why the original was kept) instead.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from components_catalog.llm.bases import api_base_warnings
from components_catalog.llm.calls import ModelRequest, call_model
from components_catalog.llm.params import (
    ModelParams,
    api_base_field,
    api_key_env_field,
    chat_messages,
    multiline,
    user_message,
)
from components_catalog.llm.providers import is_local_model
from components_catalog.types import TokenUsage
from runtime import Component, RunContext, component
from runtime.component import ParamWarning

__all__ = ["DEFAULT_REWRITE_INSTRUCTION", "RewriteParams", "RewriteInputs", "RewriteOutputs", "QueryRewrite"]

DEFAULT_REWRITE_INSTRUCTION = (
    "Rewrite the user's question as a standalone search query. Use the context (the conversation so far) "
    "to resolve pronouns and references. Keep every specific name, number and term. "
    "Reply with the query only, without quotes or explanation.")
_LABEL = re.compile(r"^(?:standalone\s+)?(?:search\s+)?(?:query|rewritten query|question)\s*:\s*", re.IGNORECASE)


class RewriteParams(ModelParams):
    instruction: str = multiline(DEFAULT_REWRITE_INSTRUCTION, "System message telling the model how to rewrite")
    max_tokens: int | None = Field(128, ge=1, description="Longest rewritten query in tokens")
    api_base: str | None = api_base_field()
    api_key_env: str | None = api_key_env_field()


class RewriteInputs(BaseModel):
    query: str = Field(description="The user's latest question")
    history: list[str] | str | None = Field(None, description="Earlier messages of the conversation, oldest first")


class RewriteOutputs(BaseModel):
    text: str = Field(description="The rewritten query (the original when the model gave nothing usable)")
    usage: TokenUsage = Field(description="Tokens and cost of the model call")


def _clean(reply: str) -> str:
    text = _LABEL.sub("", reply.strip()).strip()
    return text[1:-1].strip() if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'`" else text


def _unusable(text: str, instruction: str, local: bool) -> str | None:
    """Why a reply is no rewrite (empty, a no-context notice, the instruction echoed), else None."""
    if not text:
        return "the model returned an empty reply"
    if local:
        from components_catalog.llm.local_model import NO_CONTEXT_ANSWER

        if text.startswith(NO_CONTEXT_ANSWER[:40]):  # also when max_tokens cut the notice short
            return "the model found no context to rewrite from (offline extractive stand-in)"
    if len(text.split()) >= 4 and text.rstrip(".") in instruction:
        return "the model echoed the instruction instead of rewriting"
    return None


@component(id="text.rewrite", version=1, title="Rewrite query", category="Processing")
class QueryRewrite(Component):
    """Rewrite a follow-up question into a standalone search query with a model.

    Falls back to the original query when the model gives nothing usable (recorded under `rewrite`).
    With the offline `local/extractive` stand-in, which cannot rewrite, the history sentences most related
    to the query are appended to it (query expansion), or the query is kept as is when there is no history.
    """

    params: RewriteParams

    @classmethod
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        assert isinstance(params, RewriteParams)
        return api_base_warnings(params.model, params.api_base)

    async def run(self, inputs: RewriteInputs, ctx: RunContext) -> RewriteOutputs:
        p, query = self.params, inputs.query.strip()
        history = inputs.history if isinstance(inputs.history, str) else "\n".join(inputs.history or [])
        if not query:
            ctx.record("rewrite", {"original": inputs.query, "text": inputs.query, "fallback_to_original": True,
                                   "reason": "the query is empty: nothing to rewrite, no model called"})
            return RewriteOutputs(text=inputs.query, usage=TokenUsage(model=p.model, calls=0))
        request = ModelRequest(
            model=p.model, messages=chat_messages(p.instruction, user_message(query, history.strip())),
            temperature=p.temperature, max_tokens=p.max_tokens, api_base=p.api_base, api_key_env=p.api_key_env)
        reply = await call_model(ctx, request)
        text = _clean(reply.text)
        reason = _unusable(text, p.instruction, is_local_model(reply.model))
        record: dict[str, Any] = {"original": query, "model_reply": reply.text}
        if reason is not None:
            text, record = query, {**record, "fallback_to_original": True, "reason": reason}
        elif is_local_model(reply.model) and query not in text:
            text = f"{query} {text}"
            record = {**record, "fallback_to_original": False, "method": "extractive_expansion",
                      "reason": "the offline stand-in cannot rewrite: related history sentences were appended"}
        else:
            record = {**record, "fallback_to_original": False}
        ctx.record("rewrite", {**record, "text": text})
        return RewriteOutputs(text=text, usage=reply.usage)
