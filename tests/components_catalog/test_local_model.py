"""`local/extractive` through the real litellm code path (custom provider, no network)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from components_catalog.embeddings import count_tokens
from components_catalog.llm.local_model import MODEL_NAME, NO_CONTEXT_ANSWER, ensure_registered, split_prompt

CONTEXT = (
    "Paris is the capital of France. Berlin is the capital of Germany. "
    "Tokyo is the capital of Japan. Mount Fuji is the highest mountain in Japan."
)
QUESTION = [{"role": "user", "content": f"Context:\n{CONTEXT}\n\nQuestion: What is the capital of Japan?"}]


@pytest.fixture(scope="module")
def litellm() -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    ensure_registered()
    import litellm

    return litellm


@pytest.mark.asyncio
async def test_picks_the_sentence_that_answers_the_question(litellm: Any) -> None:
    response = await litellm.acompletion(model=MODEL_NAME, messages=QUESTION)
    answer = response.choices[0].message.content
    assert answer == "Tokyo is the capital of Japan."
    assert response.model == MODEL_NAME
    assert response.choices[0].finish_reason == "stop"


@pytest.mark.asyncio
async def test_usage_is_counted_honestly_and_costs_nothing(litellm: Any) -> None:
    response = await litellm.acompletion(model=MODEL_NAME, messages=QUESTION)
    usage = response.usage
    assert usage.prompt_tokens == count_tokens(QUESTION[0]["content"]) > 0
    assert usage.completion_tokens == count_tokens(response.choices[0].message.content) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert response._hidden_params["response_cost"] == 0.0


@pytest.mark.asyncio
async def test_streaming_yields_several_chunks_joining_to_the_same_answer(litellm: Any) -> None:
    whole = await litellm.acompletion(model=MODEL_NAME, messages=QUESTION)
    stream = await litellm.acompletion(
        model=MODEL_NAME, messages=QUESTION, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 3
    assert "".join(texts) == whole.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


@pytest.mark.asyncio
async def test_replies_are_deterministic(litellm: Any) -> None:
    replies = [await litellm.acompletion(model=MODEL_NAME, messages=QUESTION) for _ in range(3)]
    assert len({r.choices[0].message.content for r in replies}) == 1


@pytest.mark.asyncio
async def test_without_context_it_says_so(litellm: Any) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of Japan?"},
    ]
    response = await litellm.acompletion(model=MODEL_NAME, messages=messages)
    assert response.choices[0].message.content == NO_CONTEXT_ANSWER
    assert NO_CONTEXT_ANSWER.startswith("The offline extractive model (local/extractive) found no context")


@pytest.mark.asyncio
async def test_max_tokens_cuts_the_answer_and_reports_length(litellm: Any) -> None:
    response = await litellm.acompletion(model=MODEL_NAME, messages=QUESTION, max_tokens=3)
    assert response.choices[0].message.content == "Tokyo is the"
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 3


@pytest.mark.asyncio
async def test_json_schema_output_parses_and_fits_the_schema(litellm: Any) -> None:
    from pydantic import BaseModel

    class Judgement(BaseModel):
        score: float
        reason: str

    prompt = f"Context:\n{CONTEXT}\nQuestion: Capital of Japan?\nAnswer: Tokyo"
    messages = [{"role": "user", "content": prompt}]
    response = await litellm.acompletion(model=MODEL_NAME, messages=messages, response_format=Judgement)
    judgement = Judgement.model_validate_json(response.choices[0].message.content)
    assert 0.5 < judgement.score <= 1.0
    assert "Tokyo is the capital of Japan." in judgement.reason


@pytest.mark.asyncio
async def test_json_object_output_parses(litellm: Any) -> None:
    response = await litellm.acompletion(
        model=MODEL_NAME, messages=QUESTION, response_format={"type": "json_object"}
    )
    body = json.loads(response.choices[0].message.content)
    assert body["answer"] == "Tokyo is the capital of Japan."
    assert 0.0 <= body["score"] <= 1.0


def test_sync_completion_works_too(litellm: Any) -> None:
    response = litellm.completion(model=MODEL_NAME, messages=QUESTION)
    assert response.choices[0].message.content == "Tokyo is the capital of Japan."


def test_registration_is_idempotent(litellm: Any) -> None:
    first = ensure_registered()
    assert ensure_registered() is first
    assert sum(e["provider"] == "local" for e in litellm.custom_provider_map) == 1


@pytest.mark.parametrize(
    ("content", "question", "context"),
    [
        ("Context:\nA. B.\nQuestion: Why?", "Why?", "A. B."),
        ("A is one.\nB is two.\nWhat is B?", "What is B?", "A is one.\nB is two."),
        ("Summarise this:\n\nA is one. B is two.", "", "A is one. B is two."),
        ("Answer briefly.\n\nContext:\nA is one.", "Answer briefly.", "A is one."),
        ("Just one paragraph", "Just one paragraph", ""),
    ],
)
def test_split_prompt_reads_question_and_context(content: str, question: str, context: str) -> None:
    got_question, got_context, from_system = split_prompt([{"role": "user", "content": content}])
    assert (got_question, got_context) == (question, context)
    assert from_system is (context == "")
