"""Model components: `llm.chat` (completion), `text.rewrite` (query rewriting), `llm.router` (classification).

Every call goes through `model_calls.call_model` (litellm, one retry layer, recorded under `model_calls`).
The default model `local/extractive` is an offline extractive stand-in, not an LLM: `text.rewrite` and
`llm.router` say in their records how they decided when it cannot do the job.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator, model_validator

from components_catalog.logic import port_name_problem
from components_catalog.model_calls import (
    ModelRequest,
    call_model,
    is_local_model,
    json_schema_format,
    parse_json_reply,
)
from components_catalog.types import Document, TokenUsage
from runtime import Component, RunContext, component
from runtime.errors import RetryableError

__all__ = ["ModelParams", "api_base_field", "api_key_env_field", "multiline", "ChatParams", "ChatCompletion", "RewriteParams", "QueryRewrite", "Route",
           "RouterParams", "LLMRouter", "render_context", "parse_route", "DEFAULT_MODEL"]

DEFAULT_MODEL = "local/extractive"


class ModelParams(BaseModel):
    """What every model-calling component shares: the model and its sampling temperature."""

    model: str = Field(DEFAULT_MODEL, min_length=1, json_schema_extra={"x-widget": "model-picker"},
                       description="Any litellm model, e.g. `openai/gpt-4o-mini`, `anthropic/claude-...`, "
                                   "`ollama_chat/llama3`. `local/extractive` is an offline stand-in that "
                                   "extracts sentences from the context (not an LLM)")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0: most deterministic)")


def api_base_field() -> Any:
    """`api_base`, declared last in each params class so the inspector shows it after the prompt fields."""
    return Field(None, description="Provider URL override, e.g. a self-hosted OpenAI-compatible server "
                                   "(empty: the provider's default)")


def api_key_env_field() -> Any:
    return Field(None, description="Name of the env var holding the API key (empty: the provider's standard "
                                   "one, e.g. OPENAI_API_KEY). The name only: never paste a key here")


def multiline(default: str, description: str) -> Any:
    return Field(default, description=description, json_schema_extra={"format": "multiline", "x-widget": "textarea"})


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


class ChatInputs(BaseModel):
    prompt: str = Field(description="The user message (the question or instruction)")
    context: str | list[Document] | None = Field(
        None, description="Text or retrieved documents, sent as a delimited context block before the prompt")


class ChatOutputs(BaseModel):
    text: str = Field(description="The model's reply")
    usage: TokenUsage = Field(description="Tokens, cost and calls (fallbacks included)")
    data: Any = Field(default=None, description="The reply parsed as JSON; fires only when `response_schema` is set")


def render_context(context: str | list[Document] | None) -> str:
    """Documents as `[1] text` blocks (the `numbered` template filter's format); text as is."""
    if context is None:
        return ""
    if isinstance(context, str):
        return context.strip()
    texts = [(d.text if isinstance(d, Document) else str(d.get("text", "")) if isinstance(d, dict) else str(d))
             for d in context]
    return "\n\n".join(f"[{i}] {text.strip()}" for i, text in enumerate(texts, 1) if text.strip())


def _user_message(prompt: str, context: str) -> str:
    if not context:
        return prompt
    return f'Context:\n"""\n{context}\n"""\n\nQuestion: {prompt}'


def _messages(system: str, user: str) -> list[dict[str, Any]]:
    return ([{"role": "system", "content": system}] if system.strip() else []) + [{"role": "user", "content": user}]


@component(id="llm.chat", version=1, title="Chat completion", category="Models")
class ChatCompletion(Component):
    """Send the prompt (with optional context) to a model through litellm and return its reply.

    Tokens stream to the editor; every call (messages, params, reply, usage, cost, latency) is recorded.
    With `response_schema` the reply must be JSON matching it; it is parsed onto `data`.
    """

    params: ChatParams

    async def run(self, inputs: ChatInputs, ctx: RunContext) -> ChatOutputs:
        p = self.params
        schema = p.response_schema
        messages = _messages(p.system_prompt, _user_message(inputs.prompt, render_context(inputs.context)))
        response_format = json_schema_format(str(schema.get("title", "response")), schema) if schema else None
        request = ModelRequest(model=p.model, messages=messages, temperature=p.temperature, max_tokens=p.max_tokens,
                               timeout_s=p.timeout_s, stream=p.stream, response_format=response_format,
                               api_base=p.api_base, api_key_env=p.api_key_env, fallbacks=tuple(p.fallbacks))
        reply = await call_model(ctx, request)
        if schema is None:
            return ChatOutputs(text=reply.text, usage=reply.usage)
        data = parse_json_reply(reply.text, schema, reply.model)
        return ChatOutputs(text=reply.text, usage=reply.usage, data=data)


# --- text.rewrite ---------------------------------------------------------------------------------

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
        from components_catalog.local_model import NO_CONTEXT_ANSWER

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

    async def run(self, inputs: RewriteInputs, ctx: RunContext) -> RewriteOutputs:
        p, query = self.params, inputs.query.strip()
        history = inputs.history if isinstance(inputs.history, str) else "\n".join(inputs.history or [])
        if not query:
            ctx.record("rewrite", {"original": inputs.query, "text": inputs.query, "fallback_to_original": True,
                                   "reason": "the query is empty: nothing to rewrite, no model called"})
            return RewriteOutputs(text=inputs.query, usage=TokenUsage(model=p.model, calls=0))
        request = ModelRequest(
            model=p.model, messages=_messages(p.instruction, _user_message(query, history.strip())),
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


# --- llm.router -----------------------------------------------------------------------------------

class Route(BaseModel):
    name: str = Field(description="Output port name (letters, digits and _), e.g. `billing`")
    description: str = Field("", description="What inputs belong here; the model (or the embedder) reads it")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        problem = "is the router's own `route` output" if name == "route" else port_name_problem(name)
        if problem:
            raise ValueError(f"route name `{name}` {problem}")
        return name


_DEFAULT_ROUTES = [  # worded so that the offline embedding fallback separates them too
    Route(name="question", description="What, who, where, when, why or how: a question asking for facts or "
                                       "information"),
    Route(name="chitchat", description="Hello, hi, thanks, goodbye, how are you: greetings and small talk")]


class RouterParams(ModelParams):
    routes: list[Route] = Field(default_factory=lambda: list(_DEFAULT_ROUTES), min_length=2,
                                description="The routes: one output port each; the model picks one")
    default_route: str | None = Field(None, description="Route taken when the model's reply names no route "
                                                        "(empty: such a reply fails the node, retryably)")
    api_base: str | None = api_base_field()
    api_key_env: str | None = api_key_env_field()

    @model_validator(mode="after")
    def _check_routes(self) -> RouterParams:
        names = [r.name for r in self.routes]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"route name `{twice[0]}` is used twice; every route needs its own port name")
        if self.default_route is not None and self.default_route not in names:
            raise ValueError(f"default_route `{self.default_route}` is not one of the routes: {', '.join(names)}")
        return self


class RouterInputs(BaseModel):
    text: str = Field(description="The text to classify; passed on unchanged through the chosen route's port")


def parse_route(reply: str, names: list[str]) -> str | None:
    """The route a reply names: JSON `{"route": ...}` or text; exact, then case-insensitive, then contained."""
    candidate = reply.strip()
    try:
        data = json.loads(candidate)
        if isinstance(data, dict) and isinstance(data.get("route"), str):
            candidate = data["route"].strip()
    except ValueError:
        pass
    if candidate in names:
        return candidate
    bare = candidate.strip("\"'`.:!* \n").lower()
    by_lower = {n.lower(): n for n in names}
    if bare in by_lower:
        return by_lower[bare]
    found = [n for n in names if re.search(rf"(?<![\w]){re.escape(n.lower())}(?![\w])", candidate.lower())]
    return found[0] if len(found) == 1 else None


def _route_prompt(routes: list[Route]) -> str:
    lines = "\n".join(f"- {r.name}: {r.description or r.name}" for r in routes)
    return ("Classify the user's text into exactly one of these routes:\n"
            f"{lines}\n\nReply with JSON: {{\"route\": \"<route name>\"}}.")


def _route_schema(names: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {"route": {"type": "string", "enum": names}},
            "required": ["route"], "additionalProperties": False}


def _embedding_scores(text: str, routes: list[Route]) -> list[float]:
    """Cosine similarity of `text` to each route's `name: description` (blocking: runs the embedder)."""
    from components_catalog.embeddings import cosine_scores, default_embedder

    labels = [f"{r.name.replace('_', ' ')}: {r.description}" for r in routes]
    vectors = default_embedder().embed([text, *labels])
    return [round(float(s), 4) for s in cosine_scores(vectors[0], vectors[1:])]


@component(id="llm.router", version=1, title="Model router", category="Logic")
class LLMRouter(Component):
    """Classify the text into one of the named routes with a model; only that route's port fires.

    The model is asked for `{"route": <name>}` (structured output). Local models (`local/...`) cannot
    classify, so they route by embedding similarity of the text to each route's name and description.
    """

    params: RouterParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, RouterParams)
        fields: dict[str, Any] = {r.name: (str, Field(None, description=f"Fires with the text when the route "
                                                                        f"is `{r.name}`: {r.description}"))
                                  for r in params.routes}
        fields["route"] = (str, Field(description="The chosen route's name (always fires)"))
        return RouterInputs, create_model("RouterOutputs", **fields)

    async def run(self, inputs: RouterInputs, ctx: RunContext) -> BaseModel:
        _, outputs = self.ports(self.params)
        name, decision = await self._decide(inputs.text, ctx)
        ctx.record("route", {"route": name, **decision})
        return outputs(**{name: inputs.text, "route": name})

    async def _decide(self, text: str, ctx: RunContext) -> tuple[str, dict[str, Any]]:
        p = self.params
        names = [r.name for r in p.routes]
        if is_local_model(p.model):
            scores = await ctx.to_thread(_embedding_scores, text, p.routes)
            best = max(range(len(names)), key=lambda i: (scores[i], -i))
            return names[best], {"method": "embedding_similarity", "scores": dict(zip(names, scores, strict=True)),
                                 "reason": f"`{p.model}` cannot classify: routed by similarity to each route"}
        request = ModelRequest(model=p.model, messages=_messages(_route_prompt(p.routes), text),
                               temperature=p.temperature, api_base=p.api_base, api_key_env=p.api_key_env,
                               response_format=json_schema_format("route", _route_schema(names)))
        reply = await call_model(ctx, request)
        chosen = parse_route(reply.text, names)
        if chosen is not None:
            return chosen, {"method": "model", "model_reply": reply.text}
        if p.default_route is not None:
            return p.default_route, {"method": "default", "model_reply": reply.text,
                                     "reason": "the reply named no route: took default_route"}
        raise RetryableError(f"Model `{reply.model}` replied {reply.text[:120]!r}, which names none of the routes "
                             f"({', '.join(names)}). Set `default_route` to take a route when the reply is unclear.")
