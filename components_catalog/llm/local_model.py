"""`local/extractive`: a deterministic offline stand-in model, served through litellm like any provider.

It answers by extraction: the context is split into sentences and those closest to the question (MiniLM
cosine similarity) come back in their original order. Nothing is generated and nothing leaves the
machine, token counts are honest, and `llm.chat` runs exactly the litellm code path of a real model.
Call `ensure_registered()` once before `litellm.acompletion(model="local/extractive", ...)`.

How the prompt is read (last user message):
- Labelled sections (`Context:`, `Question:`, `Documents:`, `Answer:` ... at the start of a line): the
  question/query/answer/claim sections are the query, the others are the context.
- Otherwise the last line ending in `?` is the question; failing that, after a first paragraph ending
  in `:` ("Summarise this:") the rest is context and the most central sentences answer; else the last
  paragraph is the question. Everything else is the context.
- With no context in the user message, the system message is the context, but only if one of its
  sentences is close to the question ("You are a helpful assistant." is not context).
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
from typing import TYPE_CHECKING, Any

from components_catalog.embeddings import cosine_scores, count_tokens, default_embedder, truncate_to_tokens
from components_catalog.llm.providers import load_litellm

if TYPE_CHECKING:
    from litellm.types.llms.openai import ChatCompletionUsageBlock
    from litellm.types.utils import GenericStreamingChunk

__all__ = ["MODEL_NAME", "NO_CONTEXT_ANSWER", "Reply", "ensure_registered", "reply_to", "split_prompt"]

MODEL_NAME = "local/extractive"
PROVIDER = "local"
NO_CONTEXT_ANSWER = ("The offline extractive model (local/extractive) found no context to answer from. "
                     "Put the source text in the prompt, for example after a line `Context:`.")
MAX_SENTENCES = 3
SCORE_FLOOR = 0.3  # extra sentences must reach this cosine similarity ...
RELATIVE_MARGIN = 0.1  # ... and be within this of the best one
SYSTEM_CONTEXT_FLOOR = 0.4  # a system message is context only if its best sentence reaches this

_QUERY_LABELS = ("question", "query", "answer", "response", "claim")
_LABELS = "|".join([*_QUERY_LABELS, "context", "documents?", "sources?", "passages?"])
_MARKER = re.compile(rf"^[ \t]*(?:#+[ \t]*)?(?P<label>{_LABELS})[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_Obj = Mapping[str, Any]  # a chat message, JSON schema or params dict
_REASON_NAMES = re.compile(r"reason|explanation|rationale|justification|why", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str  # "stop", or "length" when max_tokens cut the answer
    prompt_tokens: int
    completion_tokens: int


def _message_text(message: _Obj) -> str:
    content = message.get("content")
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p)
    return content if isinstance(content, str) else ""


def _pop_question_line(parts: list[str]) -> str:
    """Remove and return the last line ending in '?' in `parts`, searching from the end."""
    for i in reversed(range(len(parts))):
        lines = parts[i].splitlines()
        for j in reversed(range(len(lines))):
            if lines[j].rstrip().endswith("?"):
                question = lines.pop(j)
                parts[i] = "\n".join(lines)
                return question.strip()
    return ""


def _split_text(text: str) -> tuple[str, str]:
    matches = list(_MARKER.finditer(text))
    preamble = text[: matches[0].start()] if matches else text
    queries: list[str] = []
    contexts: list[str] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        is_query = match.group("label").lower() in _QUERY_LABELS
        (queries if is_query else contexts).append(text[match.end() : end].strip())
    if queries:
        return "\n".join(queries), "\n".join(contexts or [preamble])
    parts = [*contexts, preamble]
    question = _pop_question_line(parts)
    if question:
        return question, "\n".join(parts if not contexts else parts[:-1])
    if contexts:
        return preamble, "\n".join(contexts)
    paragraphs = [p for p in re.split(r"\n\s*\n", preamble.strip()) if p.strip()]
    if len(paragraphs) > 1 and paragraphs[0].rstrip().endswith(":"):  # "Summarise this:" is no query
        return "", "\n\n".join(paragraphs[1:])
    return (paragraphs[-1] if paragraphs else ""), "\n\n".join(paragraphs[:-1])


def split_prompt(messages: Sequence[_Obj]) -> tuple[str, str, bool]:
    """(question, context, whether the context came from the system message); see the module docstring."""
    users = [_message_text(m) for m in messages if m.get("role") == "user"]
    question, context = _split_text(users[-1] if users else "")
    if context.strip():
        return question.strip(), context.strip(), False
    system = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "developer"))
    return question.strip(), system.strip(), True


def split_sentences(context: str) -> list[str]:
    """Sentences of `context` (never spanning lines), without list bullets or duplicates."""
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
    kept: list[int] = []
    for i in chosen:  # by rank, so a token budget keeps the best sentences
        if budget is None or sum(count_tokens(sentences[k]) for k in [*kept, i]) <= budget:
            kept.append(i)
    if not kept:
        return [truncate_to_tokens(sentences[ranked[0]], budget or 0)], top, True
    return [sentences[i] for i in sorted(kept)], top, len(kept) < len(chosen)


def _resolve(schema: _Obj, root: _Obj) -> _Obj:
    """Follow a local `$ref` (pydantic's `$defs`) or take the first non-null `anyOf` option."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for key in ref[2:].split("/"):
            node = node.get(key, {}) if isinstance(node, Mapping) else {}
        return node
    options = schema.get("anyOf") or schema.get("oneOf")
    return next((o for o in options if o.get("type") != "null"), options[0]) if options else schema


def _fill(schema: _Obj, name: str, facts: dict[str, Any], root: _Obj, depth: int) -> Any:
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
        value = low + score * (float(schema.get("maximum", 10 if kind == "integer" else 1)) - low)
        return round(value) if kind == "integer" else round(value, 4)
    if kind == "boolean":
        return score >= 0.5
    return None if kind == "null" else facts["reason"] if _REASON_NAMES.search(name) else facts["answer"]


def _structured(response_format: Any, answer: str, sentences: list[str], score: float) -> str | None:
    """The reply as JSON when `response_format` asks for json_object or json_schema, else None.

    score = best cosine similarity of the query (question plus any `Answer:`) to a context sentence.
    """
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    if kind not in ("json_object", "json_schema"):
        return None
    score = min(max(score, 0.0), 1.0)
    reason = (
        f'The closest context sentence has cosine similarity {score:.2f} to the query: "{sentences[0]}"'
        if sentences
        else "No context was given, so nothing in the prompt supports an answer."
    )
    facts = {"score": score, "answer": answer, "reason": reason, "sentences": sentences}
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    if schema.get("type", "object") == "object" and not schema.get("properties") and not schema.get("$ref"):
        return json.dumps({"answer": answer, "score": round(score, 4), "reason": reason})
    return json.dumps(_fill(schema, "", facts, schema, 0))


def reply_to(messages: Sequence[_Obj], optional_params: _Obj | None = None) -> Reply:
    """The deterministic reply of `local/extractive` (blocking: runs the embedder)."""
    params = optional_params or {}
    limits = [int(v) for k in ("max_tokens", "max_completion_tokens") if (v := params.get(k)) is not None]
    budget = min(limits) if limits else None
    question, context, from_system = split_prompt(messages)
    sentences = split_sentences(context)
    picked, score, cut = _pick(question, sentences, budget) if sentences else ([], 0.0, False)
    if from_system and score < SYSTEM_CONTEXT_FLOOR:  # a persona prompt is not context
        picked, score, cut = [], 0.0, False
    answer = " ".join(picked) if picked else NO_CONTEXT_ANSWER
    if not picked and budget is not None:
        answer, cut = truncate_to_tokens(answer, budget), count_tokens(answer) > budget
    text = _structured(params.get("response_format"), answer, picked, score) or answer
    prompt_tokens = sum(count_tokens(_message_text(m)) for m in messages)
    return Reply(text, "length" if cut else "stop", prompt_tokens, count_tokens(text))


def _stream_chunks(reply: Reply) -> Iterator[GenericStreamingChunk]:
    """litellm `GenericStreamingChunk`s: the reply word by word, then a final chunk with usage."""
    usage: ChatCompletionUsageBlock
    for word in re.findall(r"\S+\s*", reply.text):
        yield {"text": word, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}
    prompt, completion = reply.prompt_tokens, reply.completion_tokens
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    yield {"text": "", "is_finished": True, "finish_reason": reply.finish_reason, "usage": usage}


def _fill_response(model_response: Any, reply: Reply) -> Any:
    from litellm.types.utils import Usage

    model_response.choices[0].message.content = reply.text
    model_response.choices[0].finish_reason = reply.finish_reason
    model_response.model = MODEL_NAME
    p, c = reply.prompt_tokens, reply.completion_tokens
    model_response.usage = Usage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)
    return model_response


@functools.cache
def _handler_class() -> type:
    """The `CustomLLM` subclass, built on first use so that importing this module does not import litellm.

    litellm calls these methods with keyword arguments only (`litellm/llms/custom_llm.py`).
    """
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # else litellm fetches a cost map online
    load_litellm()  # the offline cost map, and quiet banners
    from litellm.llms.custom_llm import CustomLLM

    class LocalExtractiveLLM(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            reply = reply_to(kwargs["messages"], kwargs["optional_params"])
            return _fill_response(kwargs["model_response"], reply)

        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
            yield from _stream_chunks(reply_to(kwargs["messages"], kwargs["optional_params"]))

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            reply = await asyncio.to_thread(reply_to, kwargs["messages"], kwargs["optional_params"])
            return _fill_response(kwargs["model_response"], reply)

        # The base is an `async def` returning an iterator, but litellm iterates the call's result itself.
        async def astreaming(  # pyright: ignore[reportIncompatibleMethodOverride]
            self, *args: Any, **kwargs: Any
        ) -> AsyncIterator[GenericStreamingChunk]:
            reply = await asyncio.to_thread(reply_to, kwargs["messages"], kwargs["optional_params"])
            for chunk in _stream_chunks(reply):
                yield chunk
                await asyncio.sleep(0)  # let other tasks run between chunks, as a network stream would

    return LocalExtractiveLLM


_register_lock = threading.Lock()


def ensure_registered() -> Any:
    """Route `local/*` models to the extractive handler, idempotently (an existing `local` entry in
    `litellm.custom_provider_map` is kept, not replaced); returns the handler in use."""
    handler_class = _handler_class()  # imports litellm with the offline cost map
    litellm = load_litellm()
    from litellm.utils import custom_llm_setup

    with _register_lock:
        entries = litellm.custom_provider_map
        handler = next((e["custom_handler"] for e in entries if e.get("provider") == PROVIDER), None)
        if handler is None:
            handler = handler_class()
            entries.append({"provider": PROVIDER, "custom_handler": handler})
        custom_llm_setup()  # adds "local" to litellm.provider_list now, not only at the next call
        if MODEL_NAME not in litellm.model_cost:
            free = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}
            cache = {"cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0}
            info = {**free, **cache, "litellm_provider": PROVIDER, "mode": "chat", "max_output_tokens": 4096}
            litellm.register_model({MODEL_NAME: info})
    return handler
