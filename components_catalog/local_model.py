"""`local/extractive`: a deterministic offline stand-in model, served through litellm like any provider.

It answers by extraction: the question and the context are read from the prompt, the context is split
into sentences, and the sentences closest to the question (MiniLM cosine similarity) are returned in
their original order. Nothing is generated and nothing leaves the machine, so pipelines run offline
with honest token counts, and `llm.chat` exercises exactly the litellm code path of a real model.

How the prompt is read (last user message):
- Labelled sections (`Context:`, `Question:`, `Documents:`, `Answer:` ... at the start of a line): the
  question/query/answer sections are the query, the others are the context.
- Otherwise the last line ending in `?` is the question; failing that, a first paragraph ending in `:`
  ("Summarise this:") or else the last paragraph. Everything else is the context.
- With no context in the user message, the system message is the context.

Call `ensure_registered()` once before `litellm.acompletion(model="local/extractive", ...)`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components_catalog.embeddings import cosine_scores, count_tokens, default_embedder, truncate_to_tokens

__all__ = [
    "MODEL_NAME",
    "NO_CONTEXT_ANSWER",
    "Reply",
    "ensure_registered",
    "reply_to",
    "split_prompt",
    "split_sentences",
]

MODEL_NAME = "local/extractive"
PROVIDER = "local"
NO_CONTEXT_ANSWER = (
    "The offline extractive model (local/extractive) found no context to answer from. "
    "Put the source text in the prompt, for example after a line `Context:`."
)
MAX_SENTENCES = 3
SCORE_FLOOR = 0.3  # extra sentences must reach this cosine similarity ...
RELATIVE_MARGIN = 0.1  # ... and be within this of the best one

_MARKER = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?P<label>context|question|query|answer|response|claim|documents?|sources?|passages?)"
    r"[ \t]*:[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_QUERY_LABELS = {"question", "query", "answer", "response", "claim"}
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_REASON_NAMES = re.compile(r"reason|explanation|rationale|justification|why", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str  # "stop", or "length" when max_tokens cut the answer
    prompt_tokens: int
    completion_tokens: int

    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "total_tokens": total}


def _message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return ""


def _pop_question_line(parts: list[str]) -> str:
    """Remove and return the last line ending in '?' across `parts` (searched from the end)."""
    for i in range(len(parts) - 1, -1, -1):
        lines = parts[i].splitlines()
        for j in range(len(lines) - 1, -1, -1):
            if lines[j].rstrip().endswith("?"):
                question = lines.pop(j)
                parts[i] = "\n".join(lines)
                return question.strip()
    return ""


def _split_text(text: str) -> tuple[str, str]:
    matches = list(_MARKER.finditer(text))
    preamble = text[: matches[0].start()] if matches else text
    query_parts: list[str] = []
    context_parts: list[str] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        is_query = match.group("label").lower() in _QUERY_LABELS
        (query_parts if is_query else context_parts).append(text[match.end() : end].strip())
    if query_parts:
        return "\n".join(query_parts), "\n".join(context_parts or [preamble])
    parts = [*context_parts, preamble] if context_parts else [preamble]
    question = _pop_question_line(parts)
    if question:
        return question, "\n".join(parts[:-1] if context_parts else parts)
    if context_parts:
        return preamble, "\n".join(context_parts)
    paragraphs = [p for p in re.split(r"\n\s*\n", preamble.strip()) if p.strip()]
    if len(paragraphs) > 1 and paragraphs[0].rstrip().endswith(":"):
        return paragraphs[0].rstrip().rstrip(":"), "\n\n".join(paragraphs[1:])
    return (paragraphs[-1] if paragraphs else ""), "\n\n".join(paragraphs[:-1])


def split_prompt(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(question, context) read from chat messages, as described in the module docstring."""
    users = [_message_text(m) for m in messages if m.get("role") == "user"]
    question, context = _split_text(users[-1] if users else "")
    if not context.strip():
        context = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "developer"))
    return question.strip(), context.strip()


def split_sentences(context: str) -> list[str]:
    """Sentences of `context`, one per line at most, without list bullets and without duplicates."""
    seen: dict[str, None] = {}
    for line in context.splitlines():
        for piece in _SENTENCE_BREAK.split(_BULLET.sub("", line).strip()):
            if re.search(r"\w", piece):
                seen.setdefault(piece.strip(), None)
    return list(seen)


def _pick(question: str, sentences: list[str], budget: int | None) -> tuple[list[str], float, bool]:
    """The best sentences in original order, the best score, and whether `budget` cut the answer."""
    vectors = default_embedder().embed([question, *sentences] if question else sentences)
    if question:
        query, vectors = vectors[0], vectors[1:]
    else:  # no question: the most central sentences summarise the context
        query = vectors.mean(axis=0)
    scores = cosine_scores(query, vectors)
    ranked = sorted(range(len(sentences)), key=lambda i: (-float(scores[i]), i))
    top = float(scores[ranked[0]])
    floor = max(SCORE_FLOOR, top - RELATIVE_MARGIN)
    chosen = [ranked[0]] + [i for i in ranked[1:MAX_SENTENCES] if scores[i] >= floor]
    if budget is None:
        return [sentences[i] for i in sorted(chosen)], top, False
    kept: list[int] = []
    used = 0
    for i in chosen:  # by rank, so the budget keeps the best sentences
        cost = count_tokens(sentences[i] + " ")
        if used + cost <= budget:
            kept.append(i)
            used += cost
    if not kept:
        return [truncate_to_tokens(sentences[ranked[0]], budget)], top, True
    return [sentences[i] for i in sorted(kept)], top, len(kept) < len(chosen)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for key in ref[2:].split("/"):
            node = node.get(key, {}) if isinstance(node, Mapping) else {}
        return node
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return next((o for o in options if o.get("type") != "null"), options[0])
    return schema


def _fill(schema: Mapping[str, Any], name: str, facts: dict[str, Any], root: Mapping[str, Any], depth: int = 0) -> Any:
    """A deterministic value for `schema`: numbers from the score, strings from the answer or reason."""
    schema = _resolve(schema, root)
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    score: float = facts["score"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0 if score >= 0.5 else -1]
    if (kind == "object" or "properties" in schema) and depth < 6:
        props = schema.get("properties", {})
        return {key: _fill(sub, key, facts, root, depth + 1) for key, sub in props.items()}
    if kind == "array":
        item = _resolve(schema.get("items", {}), root)
        return list(facts["sentences"]) if item.get("type", "string") == "string" else []
    if kind in ("number", "integer"):
        low = float(schema.get("minimum", 0))
        high = float(schema.get("maximum", 10 if kind == "integer" else 1))
        value = low + score * (high - low)
        return round(value) if kind == "integer" else round(value, 4)
    if kind == "boolean":
        return score >= 0.5
    if kind == "null":
        return None
    return facts["reason"] if _REASON_NAMES.search(name) else facts["answer"]


def _structured(response_format: Any, answer: str, sentences: list[str], score: float) -> str | None:
    """The reply as JSON when `response_format` asks for it, else None."""
    if not isinstance(response_format, Mapping) or response_format.get("type") not in ("json_object", "json_schema"):
        return None
    score = min(max(score, 0.0), 1.0)
    if sentences:
        reason = f"The closest context sentence has cosine similarity {score:.2f} to the query: \"{sentences[0]}\""
    else:
        reason = "No context was given, so nothing in the prompt supports an answer."
    facts = {"score": score, "answer": answer, "reason": reason, "sentences": sentences}
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    if not schema.get("properties") and not schema.get("$ref"):
        return json.dumps({"answer": answer, "score": round(score, 4), "reason": reason})
    return json.dumps(_fill(schema, "", facts, schema))


def reply_to(messages: Sequence[Mapping[str, Any]], optional_params: Mapping[str, Any] | None = None) -> Reply:
    """The deterministic reply of `local/extractive` (blocking: runs the embedder)."""
    params = optional_params or {}
    limits = [int(v) for k in ("max_tokens", "max_completion_tokens") if (v := params.get(k)) is not None]
    budget = min(limits) if limits else None
    question, context = split_prompt(messages)
    sentences = split_sentences(context)
    picked: list[str] = []
    score, cut = 0.0, False
    if sentences:
        picked, score, cut = _pick(question, sentences, budget)
    answer = " ".join(picked) if picked else NO_CONTEXT_ANSWER
    text = _structured(params.get("response_format"), answer, picked, score) or answer
    if budget is not None and not picked:
        text, cut = truncate_to_tokens(text, budget), count_tokens(text) > budget
    prompt_tokens = sum(count_tokens(_message_text(m)) for m in messages)
    return Reply(text, "length" if cut else "stop", prompt_tokens, count_tokens(text))


def _stream_chunks(reply: Reply) -> Iterator[dict[str, Any]]:
    """litellm `GenericStreamingChunk`s: the reply word by word, then a final chunk with usage."""
    for word in re.findall(r"\S+\s*", reply.text):
        yield {"text": word, "is_finished": False, "finish_reason": "", "usage": None, "index": 0, "tool_use": None}
    yield {"text": "", "is_finished": True, "finish_reason": reply.finish_reason, "usage": reply.usage(), "index": 0, "tool_use": None}


def _import_litellm() -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # else litellm fetches a cost map from the internet
    import litellm

    return litellm


def _fill_response(model_response: Any, reply: Reply) -> Any:
    from litellm.types.utils import Usage

    model_response.choices[0].message.content = reply.text
    model_response.choices[0].finish_reason = reply.finish_reason
    model_response.model = MODEL_NAME
    model_response.usage = Usage(**reply.usage())
    return model_response


@functools.cache
def _handler_class() -> type:
    """The `litellm.CustomLLM` subclass, built on first use so importing this module stays cheap.

    litellm calls these methods with keyword arguments only (see `litellm/llms/custom_llm.py`).
    """
    litellm = _import_litellm()

    class LocalExtractiveLLM(litellm.CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return _fill_response(kwargs["model_response"], reply_to(kwargs["messages"], kwargs["optional_params"]))

        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
            yield from _stream_chunks(reply_to(kwargs["messages"], kwargs["optional_params"]))

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            reply = await asyncio.to_thread(reply_to, kwargs["messages"], kwargs["optional_params"])
            return _fill_response(kwargs["model_response"], reply)

        async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
            reply = await asyncio.to_thread(reply_to, kwargs["messages"], kwargs["optional_params"])
            for chunk in _stream_chunks(reply):
                yield chunk
                await asyncio.sleep(0)  # let other tasks run between chunks, as a network stream would

    return LocalExtractiveLLM


_register_lock = threading.Lock()


def ensure_registered() -> Any:
    """Route `local/*` models to the extractive handler (idempotent); returns the handler in use.

    An existing `local` entry in `litellm.custom_provider_map` is kept, not replaced.
    """
    litellm = _import_litellm()
    from litellm.utils import custom_llm_setup

    with _register_lock:
        handler = next((e["custom_handler"] for e in litellm.custom_provider_map if e.get("provider") == PROVIDER), None)
        if handler is None:
            handler = _handler_class()()
            litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": handler})
        custom_llm_setup()  # adds "local" to litellm.provider_list now, not only at the next call
        if MODEL_NAME not in litellm.model_cost:
            free = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}
            cache = {"cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0}
            info = {**free, **cache, "litellm_provider": PROVIDER, "mode": "chat", "max_output_tokens": 4096}
            litellm.register_model({MODEL_NAME: info})
    return handler
