"""`llm.router`: classify a text into one of the named routes with a model; only that route's port fires.

Local models (`local/...`, e.g. the offline `local/extractive` stand-in) cannot classify: the router then
routes by embedding similarity and says so in its `route` record.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator, model_validator

from components_catalog.llm.bases import api_base_warnings
from components_catalog.llm.calls import ModelRequest, call_model
from components_catalog.llm.params import ModelParams, api_base_field, api_key_env_field, chat_messages
from components_catalog.llm.providers import is_local_model
from components_catalog.llm.structured_output import json_schema_format
from components_catalog.logic import port_name_problem
from runtime import Component, RunContext, component
from runtime.component import ParamWarning
from runtime.errors import RetryableError

__all__ = ["Route", "RouterParams", "RouterInputs", "LLMRouter", "parse_route"]


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
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        assert isinstance(params, RouterParams)
        return api_base_warnings(params.model, params.api_base)

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
        request = ModelRequest(model=p.model, messages=chat_messages(_route_prompt(p.routes), text),
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
