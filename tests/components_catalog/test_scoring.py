"""`eval.score`: groundedness (offline embedder), keywords, regex, length, and the judge (local and mocked)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components_catalog.llm.providers import load_litellm
from components_catalog.scoring import Score, ScoreInputs, ScoreParams
from components_catalog.types import Document
from runtime import MemoryCache, NodeCached, NodeFinished, execute
from runtime.context import RunContext
from runtime.errors import RetryableError
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

CONTEXT = [Document(id="1", text="The Eiffel Tower was completed in 1889. It stands in Paris."),
           Document(id="2", text="Gustave Eiffel's company designed and built the tower.")]
GROUNDED = "The Eiffel Tower was finished in 1889. It is located in Paris."
UNGROUNDED = "Bananas are a good source of potassium. The stock market fell sharply on Monday."


def make_ctx() -> RunContext:
    return RunContext(run_id="r1", node_id="score", component_id="eval.score")


async def score(params: dict[str, Any], **inputs: Any) -> tuple[Any, RunContext]:
    ctx = make_ctx()
    out = await Score(ScoreParams(**params)).run(ScoreInputs(**inputs), ctx)
    return out, ctx


async def test_groundedness_ranks_a_grounded_answer_above_an_ungrounded_one() -> None:
    good, ctx = await score({}, answer=GROUNDED, context=CONTEXT)
    bad, _ = await score({}, answer=UNGROUNDED, context=CONTEXT)
    assert good.score > 0.7 and bad.score < 0.3
    assert good.passed is True and bad.passed is False
    assert "usage" not in good.model_fields_set
    support = ctx.trace["groundedness"]
    assert [s["sentence"] for s in support] == ["The Eiffel Tower was finished in 1889.", "It is located in Paris."]
    assert support[0]["closest_context"] == "The Eiffel Tower was completed in 1889."
    assert good.reason.startswith("2 answer sentence(s) checked against 3 context sentence(s): mean support ")
    assert "Least supported: " in bad.reason


async def test_groundedness_names_the_least_supported_sentence() -> None:
    mixed = "The Eiffel Tower was completed in 1889. Penguins live mostly in the Southern Hemisphere."
    out, _ = await score({}, answer=mixed, context=CONTEXT)
    assert "Least supported: 'Penguins live mostly in the Southern Hemisphere.'" in out.reason


async def test_groundedness_without_context_scores_zero() -> None:
    out, _ = await score({}, answer=GROUNDED, context=None)
    assert (out.score, out.passed, out.reason) == (0.0, False, "No context was given, so nothing supports the answer.")
    empty, _ = await score({}, answer=" ", context="Some context here.")
    assert empty.reason == "The answer is empty: there is nothing to check against the context."


@pytest.mark.parametrize(("params", "answer", "expected_score", "reason"), [
    ({"method": "keywords", "keywords": ["Paris", "1889", "Eiffel"]}, "Built in 1889 in paris.", 0.6667,
     "2 of 3 keywords found (score is the share found); found: Paris, 1889; missing: Eiffel."),
    ({"method": "keywords", "keywords": ["Paris", "1889"], "require_all": True}, "Built in 1889.", 0.0,
     "1 of 2 keywords found (all were required); found: 1889; missing: Paris."),
    ({"method": "keywords", "keywords": ["cat"]}, "A category error.", 0.0,
     "0 of 1 keywords found (score is the share found); found: none; missing: cat."),
    ({"method": "regex", "pattern": r"\b\d{4}\b"}, "Finished in 1889.", 1.0,
     "The pattern /\\b\\d{4}\\b/ matched '1889' at character 12."),
    ({"method": "regex", "pattern": "^No"}, "Yes.", 0.0, "The pattern /^No/ found no match in the answer "
                                                        "(4 characters)."),
    ({"method": "length", "min_length": 5, "max_length": 10}, "Short", 1.0,
     "The answer has 5 characters (within bounds: expected at least 5 and at most 10)."),
    ({"method": "length", "min_length": 10}, "Short", 0.0,
     "The answer has 5 characters (too short: expected at least 10)."),
    ({"method": "length", "max_length": 3}, "Short", 0.0, "The answer has 5 characters (too long: expected at most 3)."),
])
async def test_deterministic_methods(params: dict, answer: str, expected_score: float, reason: str) -> None:
    out, ctx = await score(params, answer=answer)
    assert out.score == expected_score and out.reason == reason
    assert out.passed is (expected_score >= 0.5)
    assert "usage" not in out.model_fields_set and "model_calls" not in ctx.trace
    assert ctx.trace["score"] == {"method": params["method"], "score": expected_score, "threshold": 0.5,
                                  "reason": reason}


async def test_threshold_decides_passed() -> None:
    out, _ = await score({"method": "keywords", "keywords": ["a", "b", "c"], "threshold": 0.3}, answer="a only")
    assert out.score == 0.3333 and out.passed is True


@pytest.mark.parametrize(("params", "message"), [
    ({"method": "keywords"}, "method `keywords` needs at least one entry in `keywords`"),
    ({"method": "regex"}, "method `regex` needs a `pattern`"),
    ({"method": "regex", "pattern": "(unclosed"}, "the regex '\\(unclosed' does not compile"),
    ({"method": "length"}, "method `length` needs `min_length`, `max_length` or both"),
    ({"method": "length", "min_length": 9, "max_length": 2}, "min_length \\(9\\) is larger than max_length \\(2\\)"),
    ({"threshold": 1.5}, "less than or equal to 1"),
])
def test_params_are_checked(params: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScoreParams(**params)


async def test_local_judge_returns_a_clipped_score_a_reason_and_usage() -> None:
    out, ctx = await score({"method": "judge"}, answer=GROUNDED, context=CONTEXT,
                           question="When was the Eiffel Tower completed?")
    assert 0.0 <= out.score <= 1.0 and out.reason
    assert out.usage is not None and out.usage.model == "local/extractive" and out.usage.calls == 1
    (call,) = ctx.trace["model_calls"]
    assert call["params"]["response_format"]["json_schema"]["name"] == "verdict"
    assert call["messages"][1]["content"].startswith("Question: When was the Eiffel Tower completed?\n\nContext:\n")
    assert call["messages"][1]["content"].endswith(f"Answer: {GROUNDED}")


@pytest.fixture
def judge_says(monkeypatch: pytest.MonkeyPatch) -> Any:
    litellm = load_litellm()
    real = litellm.acompletion

    def install(text: str) -> None:
        async def fake(**kwargs: Any) -> Any:
            return await real(**kwargs, mock_response=text)

        monkeypatch.setattr(litellm, "acompletion", fake)

    return install


async def test_judge_clips_out_of_range_scores(judge_says: Any) -> None:
    judge_says('{"score": 1.7, "reason": "Correct and cited."}')
    out, _ = await score({"method": "judge", "model": "openai/gpt-4o-mini", "threshold": 0.9}, answer="x")
    assert (out.score, out.passed, out.reason) == (1.0, True, "Correct and cited.")


@pytest.mark.parametrize(("reply", "message"), [
    ("great answer", "was asked for JSON matching the response schema but replied with text that is not JSON"),
    ('{"score": "high", "reason": "ok"}', "replied with JSON that does not match the response schema: 'high' is "
                                          "not of type 'number' \\(at `score`\\)"),
])
async def test_judge_bad_verdicts_are_retryable(judge_says: Any, reply: str, message: str) -> None:
    judge_says(reply)
    with pytest.raises(RetryableError, match=message):
        await score({"method": "judge", "model": "openai/gpt-4o-mini"}, answer="x")


async def test_model_free_scores_are_cached_by_the_runtime() -> None:
    registry = sample_registry()
    registry.add(Score)
    spec = make_spec({"a": ("io.input", {}), "s": ("eval.score", {"method": "length", "max_length": 3}),
                      "out": ("io.output", {})}, [("a", "value", "s", "answer"), ("s", "passed", "out", "value")])
    cache = MemoryCache()
    first = [e async for e in execute(spec, {"a": "abc"}, registry=registry, cache=cache)]
    second = [e async for e in execute(spec, {"a": "abc"}, registry=registry, cache=cache)]
    assert any(isinstance(e, NodeFinished) and e.node_id == "s" for e in first)
    assert any(isinstance(e, NodeCached) and e.node_id == "s" for e in second)
    assert second[-1].outputs == {"out": True}
