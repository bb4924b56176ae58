"""`eval.score`: score an answer 0..1 by an LLM judge, groundedness, keywords, a regex or its length.

Only `judge` calls a model. `groundedness` is model-free: each answer sentence is compared (MiniLM
cosine similarity) with every context sentence, and the score is the mean of the best matches.
`cacheable = True`: the model-free methods are pure; for `judge` the node's cache policy decides, like for
any node (set `policy.cache: false` on a judge node to re-ask the model every run).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from components_catalog.llm.bases import api_base_warnings
from components_catalog.llm.calls import ModelRequest, call_model
from components_catalog.llm.params import (
    ModelParams,
    api_base_field,
    api_key_env_field,
    multiline,
    render_context,
)
from components_catalog.llm.structured_output import json_schema_format, parse_json_reply
from components_catalog.safe_regex import compile_pattern, pattern_problem, search
from components_catalog.types import Document, TokenUsage
from runtime import Component, RunContext, component
from runtime.component import ParamWarning
from runtime.errors import RetryableError
from runtime.text import shorten

__all__ = ["ScoreParams", "Score", "Similarity", "similarity", "groundedness", "keyword_score", "regex_score", "length_score"]

Method = Literal["judge", "groundedness", "keywords", "regex", "length"]
MAX_PATTERN_CHARS = 500
MAX_MATCH_CHARS = 100_000  # a regex looks at this much of the answer, at most
DEFAULT_CRITERIA = ("The answer responds to the question, is correct, and every claim in it is supported "
                    "by the context.")
_JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number", "description": "0 (fails the criteria) to 1 (fully meets them)"},
                   "reason": {"type": "string", "description": "One or two sentences: why this score"}},
    "required": ["score", "reason"], "additionalProperties": False}


class _Method(BaseModel):  # a base of its own so the inspector shows these first
    method: Method = Field("groundedness", description="judge: a model grades against `criteria`; groundedness: "
                                                       "answer sentences vs context sentences (no model); "
                                                       "keywords; regex; length (characters)")
    threshold: float = Field(0.5, ge=0, le=1, description="`passed` is score >= threshold")


class ScoreParams(ModelParams, _Method):
    """`model`, `temperature`, `criteria`, `max_tokens`, `api_base` and `api_key_env` are for `judge` only."""

    criteria: str = multiline(DEFAULT_CRITERIA, "judge: what a good answer does")
    max_tokens: int | None = Field(256, ge=1, description="judge: longest verdict in tokens")
    keywords: list[str] = Field(default_factory=list, description="keywords: words or phrases to look for "
                                                                  "(case-insensitive, whole words)")
    require_all: bool = Field(False, description="keywords: all or nothing (score 1 only when every keyword "
                                                 "appears, else 0); off: the share of keywords found")
    pattern: str = Field("", max_length=MAX_PATTERN_CHARS, description="regex: Python regular expression "
                                                                       "searched in the answer (score 1 or 0)")
    min_length: int | None = Field(None, ge=0, description="length: fewest characters allowed")
    max_length: int | None = Field(None, ge=0, description="length: most characters allowed")
    api_base: str | None = api_base_field()
    api_key_env: str | None = api_key_env_field()

    @model_validator(mode="after")
    def _method_needs(self) -> ScoreParams:
        if self.method == "keywords" and not [k for k in self.keywords if k.strip()]:
            raise ValueError("method `keywords` needs at least one entry in `keywords`")
        if self.method == "regex":
            if not self.pattern:
                raise ValueError("method `regex` needs a `pattern`")
            problem = pattern_problem(self.pattern)
            if problem is not None:
                raise ValueError(f"the regex {self.pattern!r} does not compile: {problem}")
        if self.method == "length" and self.min_length is None and self.max_length is None:
            raise ValueError("method `length` needs `min_length`, `max_length` or both")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) is larger than max_length ({self.max_length})")
        return self


class ScoreInputs(BaseModel):
    answer: str = Field(description="The text to score")
    context: str | list[Document] | None = Field(None, description="Sources the answer should rest on "
                                                                   "(groundedness and judge)")
    question: str | None = Field(None, description="The question the answer responds to (judge)")


class ScoreOutputs(BaseModel):
    score: float = Field(description="0 (worst) to 1 (best)")
    passed: bool = Field(description="score >= threshold")
    reason: str = Field(description="Why this score")
    usage: TokenUsage | None = Field(None, description="judge only: tokens and cost of the model call")


def keyword_score(answer: str, keywords: list[str], require_all: bool) -> tuple[float, str]:
    wanted = [k.strip() for k in keywords if k.strip()]
    found = [k for k in wanted if re.search(rf"(?<!\w){re.escape(k)}(?!\w)", answer, re.IGNORECASE)]
    missing = [k for k in wanted if k not in found]
    share = len(found) / len(wanted)
    score = (1.0 if not missing else 0.0) if require_all else share
    listing = f"found: {', '.join(found) or 'none'}; missing: {', '.join(missing) or 'none'}"
    rule = "all were required" if require_all else "score is the share found"
    return score, f"{len(found)} of {len(wanted)} keywords found ({rule}); {listing}."


def regex_score(answer: str, pattern: str) -> tuple[float, str]:
    match = search(compile_pattern(pattern), answer[:MAX_MATCH_CHARS], where="eval.score")
    if match is None:
        return 0.0, f"The pattern /{pattern}/ found no match in the answer ({len(answer)} characters)."
    shown = shorten(match.group(0), 80)
    return 1.0, f"The pattern /{pattern}/ matched {shown!r} at character {match.start()}."


def length_score(answer: str, low: int | None, high: int | None) -> tuple[float, str]:
    n = len(answer)
    bounds = " and ".join(b for b in (f"at least {low}" if low is not None else "",
                                      f"at most {high}" if high is not None else "") if b)
    ok = (low is None or n >= low) and (high is None or n <= high)
    verdict = "within bounds" if ok else "too short" if low is not None and n < low else "too long"
    return (1.0 if ok else 0.0), f"The answer has {n} characters ({verdict}: expected {bounds})."


def groundedness(answer: str, context: str) -> tuple[float, str, list[dict[str, Any]]]:
    """Mean over answer sentences of the best cosine similarity to a context sentence (blocking)."""
    from components_catalog.embeddings import default_embedder
    from components_catalog.llm.local_model import split_sentences

    claims, sources = split_sentences(answer), split_sentences(context)
    if not sources:
        return 0.0, "No context was given, so nothing supports the answer.", []
    if not claims:
        return 0.0, "The answer is empty: there is nothing to check against the context.", []
    vectors = default_embedder().embed([*claims, *sources])
    similarity = vectors[: len(claims)] @ vectors[len(claims):].T
    best = similarity.max(axis=1).clip(0.0, 1.0)
    support = [{"sentence": claim, "support": round(float(best[i]), 4),
                "closest_context": sources[int(similarity[i].argmax())]} for i, claim in enumerate(claims)]
    weakest = min(support, key=lambda s: s["support"])
    score = float(best.mean())
    reason = (f"{len(claims)} answer sentence(s) checked against {len(sources)} context sentence(s): mean support "
              f"{score:.2f}. Least supported: {weakest['sentence']!r} ({weakest['support']:.2f}).")
    return score, reason, support


def _plain_text(context: str | list[Document] | None) -> str:
    """The context's text, documents one after another (no `[n]` labels: they would be matched too)."""
    if context is None or isinstance(context, str):
        return context or ""
    return "\n".join(d.text if isinstance(d, Document) else str(d.get("text", "")) if isinstance(d, dict) else str(d)
                     for d in context)


def _judge_messages(criteria: str, answer: str, context: str, question: str | None) -> list[dict[str, Any]]:
    system = ("You grade answers. Criteria: " + criteria.strip() + "\nGive a score from 0 (fails the criteria) "
              'to 1 (fully meets them) and a short reason. Reply with JSON: {"score": <number>, "reason": "..."}.')
    parts = [f"Question: {question.strip()}"] if question and question.strip() else []
    if context:
        parts.append(f'Context:\n"""\n{context}\n"""')
    parts.append(f"Answer: {answer}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


def _verdict(data: Any, model: str) -> tuple[float, str]:
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise RetryableError(f"Judge model `{model}` gave no numeric score: {data!r}.")
    reason = data.get("reason")
    return min(max(float(score), 0.0), 1.0), reason.strip() if isinstance(reason, str) else ""


@component(id="eval.score", version=1, title="Score answer", category="Evaluation")
class Score(Component):
    """Score an answer from 0 to 1 and say why: LLM judge, groundedness in the context (no model),
    keywords, a regex or its length. `passed` is score >= threshold."""

    params: ScoreParams

    @classmethod
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        assert isinstance(params, ScoreParams)
        return api_base_warnings(params.model, params.api_base) if params.method == "judge" else []
    cacheable = True

    async def run(self, inputs: ScoreInputs, ctx: RunContext) -> ScoreOutputs:
        p, answer = self.params, inputs.answer
        usage = None
        if p.method == "judge":
            score, reason, usage = await self._judge(inputs, ctx)
        elif p.method == "groundedness":
            score, reason, support = await ctx.to_thread(groundedness, answer, _plain_text(inputs.context))
            ctx.record("groundedness", support)
        elif p.method == "keywords":
            score, reason = keyword_score(answer, p.keywords, p.require_all)
        elif p.method == "regex":
            score, reason = regex_score(answer, p.pattern)
        else:
            score, reason = length_score(answer, p.min_length, p.max_length)
        score = round(min(max(score, 0.0), 1.0), 4)
        ctx.record("score", {"method": p.method, "score": score, "threshold": p.threshold, "reason": reason})
        out = {"score": score, "passed": score >= p.threshold, "reason": reason}
        return ScoreOutputs(**out, usage=usage) if usage is not None else ScoreOutputs(**out)

    async def _judge(self, inputs: ScoreInputs, ctx: RunContext) -> tuple[float, str, TokenUsage]:
        p = self.params
        messages = _judge_messages(p.criteria, inputs.answer, render_context(inputs.context), inputs.question)
        request = ModelRequest(model=p.model, messages=messages, temperature=p.temperature, max_tokens=p.max_tokens,
                               response_format=json_schema_format("verdict", _JUDGE_SCHEMA),
                               api_base=p.api_base, api_key_env=p.api_key_env)
        reply = await call_model(ctx, request)
        score, reason = _verdict(parse_json_reply(reply.text, _JUDGE_SCHEMA, reply.model), reply.model)
        return score, reason or f"Judge `{reply.model}` gave {score:.2f} without a reason.", reply.usage


class SimilarityInputs(BaseModel):
    text: str = Field(description="The text to compare (e.g. the answer)")
    reference: str = Field(description="The expected text")


class SimilarityOutputs(BaseModel):
    score: float = Field(description="Cosine similarity of the two MiniLM embeddings, -1..1")


@component(id="eval.similarity", version=1, title="Semantic similarity", category="Evaluation")
class Similarity(Component):
    """How close two texts are in meaning: cosine of their offline MiniLM embeddings (no model call).
    `patchwire eval`'s `similar` assertion runs this component."""

    cacheable = True

    async def run(self, inputs: SimilarityInputs, ctx: RunContext) -> SimilarityOutputs:
        score = await ctx.to_thread(similarity, inputs.text, inputs.reference)
        ctx.record("similarity", {"score": score})
        return SimilarityOutputs(score=score)


def similarity(text: str, reference: str) -> float:
    from components_catalog.embeddings import default_embedder

    vectors = default_embedder().embed([text, reference])
    return round(float(vectors[0] @ vectors[1]), 4)
