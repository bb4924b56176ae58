"""The model components against the loopback OpenAI fake: retries, failures, streaming, keys, structure.

Each test runs a real pipeline through the executor, so the retry policy, events and traces are the
runtime's own; litellm talks HTTP to `FakeOpenAI` exactly as it would to a provider.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from components_catalog.llm.chat import ChatCompletion
from components_catalog.llm.providers import load_litellm
from components_catalog.llm.rewrite import QueryRewrite
from components_catalog.llm.router import LLMRouter
from components_catalog.scoring import Score
from runtime import (
    NodeChunk,
    NodeFailed,
    NodeFinished,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    event_to_dict,
    execute,
)
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.specs import make_spec

MODEL = "openai/gpt-4o-mini"
QUESTION = "What is the capital of France?"


@pytest.fixture
def srv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    load_litellm()
    with FakeOpenAI() as server:
        monkeypatch.setenv("PATCHWIRE_MODEL_BASES", server.base_url)  # loopback, trusted with the key: explicitly
        yield server


def registry() -> Any:
    reg = sample_registry()
    for cls in (ChatCompletion, QueryRewrite, LLMRouter, Score):
        reg.add(cls)
    return reg


def chat_spec(srv: FakeOpenAI, policy: dict[str, Any] | None = None, **params: Any) -> Any:
    params = {"model": MODEL, "api_base": srv.base_url, **params}
    chat = ("llm.chat", params, policy) if policy else ("llm.chat", params)
    return make_spec({"q": ("io.input", {}), "chat": chat, "out": ("io.output", {})},
                     [("q", "value", "chat", "prompt"), ("chat", "text", "out", "value")])


async def collect(spec: Any, inputs: dict[str, Any] | None = None) -> list[Any]:
    return [event async for event in execute(spec, inputs or {"q": QUESTION}, registry=registry())]


def of(events: list[Any], kind: type, node: str = "chat") -> list[Any]:
    return [e for e in events if isinstance(e, kind) and e.node_id == node]


RETRY_3 = {"retries": 3, "retry_backoff_s": 0}


async def test_rate_limit_waits_the_retry_after_then_succeeds(srv: FakeOpenAI) -> None:
    srv.script([{"status": 429, "retry_after": 1}])
    events = await collect(chat_spec(srv, RETRY_3))
    (retrying,) = of(events, NodeRetrying)
    assert retrying.delay_s == 1.0 and retrying.attempt == 2 and retrying.error.type == "RetryableError"
    assert retrying.error.message.startswith("Model `openai/gpt-4o-mini` is rate limited (HTTP 429); the provider "
                                             "asks to retry after 1 s. Provider: Rate limit reached for gpt-4o-mini")
    (done,) = of(events, NodeFinished)
    assert done.attempts == 2 and done.outputs["text"] == f"ANSWER: {QUESTION}"
    assert [c["attempt"] for c in done.trace["model_calls"]] == [2]
    assert len(srv.requests) == 2


@pytest.mark.parametrize(("behaviour", "message"), [
    ({"status": 401}, "Model `openai/gpt-4o-mini` failed with HTTP 401: the API key was rejected. Set OPENAI_API_KEY "
                      "(or name another env var in the node's `api_key_env` param). Provider: Incorrect API key "
                      "provided: ***. You can find your API key at https://platform.openai.com/account/api-keys."),
    ({"status": 403}, "Model `openai/gpt-4o-mini` failed with HTTP 403: the API key is not allowed to use this model. "
                      "Check the key's project or organisation access, or pick another model. Provider: You are not "
                      "allowed to sample from this model."),
    ({"status": 400}, "Model `openai/gpt-4o-mini` failed with HTTP 400: the provider rejected the request. Check the "
                      "node's params (response_schema, max_tokens, temperature) against what this model supports. "
                      "Provider: Invalid request (scripted 400 from FakeOpenAI)."),
    ({"status": 400, "code": "context_length_exceeded"},
     "Model `openai/gpt-4o-mini`: the prompt does not fit the model's context window (HTTP 400). Shorten the prompt "
     "or use a model with a larger context window. Provider: This model's maximum context length is 128000 tokens. "
     "However, your messages resulted in 130017 tokens. Please reduce the length of the messages."),
    ({"status": 404}, "Model `openai/gpt-4o-mini` failed with HTTP 404: unknown model (or wrong `api_base`). Check "
                      "the model name, e.g. `openai/gpt-4o-mini`; the model picker lists the models usable here. "
                      "Provider: The model does not exist or you do not have access to it."),
    ({"status": 429, "code": "insufficient_quota"},
     "Model `openai/gpt-4o-mini`: quota exhausted (HTTP 429): the provider account has no credit or quota left, so "
     "retrying will not help. Add credit or raise the limit in the provider's billing settings, or use another key "
     "or model. Provider: You exceeded your current quota, please check your plan and billing details. For more "
     "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."),
    ({"status": 400, "code": "content_policy_violation"},
     "Model `openai/gpt-4o-mini`: the provider's content policy refused the request (HTTP 400); the same input "
     "would be refused again. Rephrase the prompt or the context (or what feeds them), or use a model with another "
     "policy. Provider: Your request was rejected as a result of our safety system. Your prompt may contain text "
     "that is not allowed by our safety system."),
])
async def test_client_errors_fail_fast_despite_retries(srv: FakeOpenAI, behaviour: dict, message: str) -> None:
    srv.script([behaviour])
    events = await collect(chat_spec(srv, RETRY_3))
    assert of(events, NodeRetrying) == []
    (failed,) = of(events, NodeFailed)
    assert failed.attempts == 1 and failed.error.type == "PermanentError"
    assert failed.error.message == message
    (call,) = failed.trace["model_calls"]
    assert call["error"] == message and call["response"] is None
    assert len(srv.requests) == 1


@pytest.mark.parametrize("behaviour", [{"status": 500}, {"status": 503}, {"malformed": True}])
@pytest.mark.parametrize("stream", [True, False])
async def test_server_errors_and_malformed_replies_are_retried(srv: FakeOpenAI, behaviour: dict,
                                                               stream: bool) -> None:
    srv.script([behaviour])
    events = await collect(chat_spec(srv, RETRY_3, stream=stream))
    (retrying,) = of(events, NodeRetrying)
    assert retrying.error.type == "RetryableError" and retrying.delay_s == 0
    (done,) = of(events, NodeFinished)
    assert done.attempts == 2 and done.outputs["text"] == f"ANSWER: {QUESTION}"


async def test_a_slow_model_times_out_and_is_retried(srv: FakeOpenAI) -> None:
    srv.script([{"delay": 2.0}])
    events = await collect(chat_spec(srv, RETRY_3, timeout_s=0.3, stream=False))
    (retrying,) = of(events, NodeRetrying)
    assert retrying.error.message.startswith("Model `openai/gpt-4o-mini` did not answer within 0.3 s (the node's "
                                             "`timeout_s` param).")
    assert of(events, NodeFinished)[0].attempts == 2


@pytest.mark.parametrize("code", ["insufficient_quota", "content_policy_violation"])
async def test_quota_and_content_policy_fail_fast_when_streaming_too(srv: FakeOpenAI, code: str) -> None:
    srv.script([{"status": 429 if code == "insufficient_quota" else 400, "code": code}])
    events = await collect(chat_spec(srv, RETRY_3, stream=True))
    (failed,) = of(events, NodeFailed)
    assert failed.attempts == 1 and failed.error.type == "PermanentError" and len(srv.requests) == 1


async def test_timeout_s_is_a_deadline_for_the_whole_stream(srv: FakeOpenAI) -> None:
    """A provider dripping one event every 0.6 s never trips httpx's read timeout (it restarts per chunk):
    13 events take about 8 s, yet the call must end at `timeout_s`."""
    srv.script([{"drip": 0.6, "reply": "one two three four five six seven eight nine ten"}])
    started = time.perf_counter()
    events = await collect(chat_spec(srv, {"retries": 0}, timeout_s=1.5))
    elapsed = time.perf_counter() - started
    (failed,) = of(events, NodeFailed)
    assert failed.error.type == "RetryableError" and failed.error.message == (
        "Model `openai/gpt-4o-mini` did not answer within 1.5 s (the node's `timeout_s` param). It is a deadline "
        "for the whole call, streaming included.")
    assert elapsed < 6, f"the stream ran {elapsed:.1f} s past its 1.5 s deadline"


async def test_the_node_policy_timeout_also_cuts_a_dripping_stream(srv: FakeOpenAI) -> None:
    """The executor's `asyncio.timeout` reaches the stream: litellm reads it on the event loop, no thread."""
    srv.script([{"drip": 0.6}])
    started = time.perf_counter()
    events = await collect(chat_spec(srv, {"retries": 0, "timeout_s": 1.5}, timeout_s=60))
    (failed,) = of(events, NodeFailed)
    assert failed.error.type == "TimeoutError" and "timed out after 1.5 s (policy.timeout_s)" in failed.error.message
    assert time.perf_counter() - started < 6


async def test_streamed_tokens_arrive_in_order_and_usage_and_cost_are_recorded(srv: FakeOpenAI) -> None:
    events = await collect(chat_spec(srv, temperature=0.2, max_tokens=50))
    chunks = of(events, NodeChunk)
    (done,) = of(events, NodeFinished)
    assert len(chunks) >= 5 and "".join(c.text for c in chunks) == done.outputs["text"] == f"ANSWER: {QUESTION}"
    kinds = [type(e) for e in events if getattr(e, "node_id", None) == "chat"]
    assert kinds[0] is NodeStarted and kinds[-1] is NodeFinished and set(kinds[1:-1]) == {NodeChunk}
    body = srv.requests[-1]["json"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    usage = done.outputs["usage"]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (6, 7, 13)  # the fake counts words
    prompt_cost, completion_cost = load_litellm().cost_per_token(model="gpt-4o-mini", prompt_tokens=6,
                                                                 completion_tokens=7)
    assert usage.cost_usd == pytest.approx(prompt_cost + completion_cost) and usage.cost_usd > 0
    (call,) = done.trace["model_calls"]
    assert call["messages"] == body["messages"] == [{"role": "user", "content": QUESTION}]
    assert call["params"] == {"temperature": 0.2, "max_tokens": 50, "timeout": 60.0, "stream": True,
                              "api_base": srv.base_url}
    assert call["usage"] == {"prompt_tokens": 6, "completion_tokens": 7, "total_tokens": 13}
    assert call["cost_usd"] == usage.cost_usd and call["fallback_used"] is False and call["attempt"] == 1


async def test_structured_chat_output_reaches_the_data_port(srv: FakeOpenAI) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "confidence": {"type": "number"}},
              "required": ["city", "confidence"], "additionalProperties": False, "title": "capital"}
    srv.script([{"json": {"city": "Paris", "confidence": 0.9}}])
    events = await collect(chat_spec(srv, response_schema=schema))
    (done,) = of(events, NodeFinished)
    assert done.outputs["data"] == {"city": "Paris", "confidence": 0.9}
    sent = srv.requests[-1]["json"]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "capital", "schema": schema, "strict": True}}


async def test_fallback_model_answers_when_the_first_fails_transiently(srv: FakeOpenAI) -> None:
    srv.script([{"status": 500}])
    events = await collect(chat_spec(srv, fallbacks=["openai/gpt-4o"], stream=False))
    (done,) = of(events, NodeFinished)
    assert done.attempts == 1 and of(events, NodeRetrying) == []
    assert [r["json"]["model"] for r in srv.requests] == ["gpt-4o-mini", "gpt-4o"]
    first, second = done.trace["model_calls"]
    assert first["model"] == MODEL and first["error"].startswith("Model `openai/gpt-4o-mini`: the provider had a "
                                                                 "server error (HTTP 500).")
    assert second["model"] == "openai/gpt-4o" and second["fallback_used"] is True
    assert done.outputs["usage"].calls == 2 and done.outputs["usage"].model == "openai/gpt-4o"


async def test_fallbacks_are_not_tried_after_a_permanent_error(srv: FakeOpenAI) -> None:
    srv.script([{"status": 401}])
    events = await collect(chat_spec(srv, fallbacks=["openai/gpt-4o"], stream=False))
    assert of(events, NodeFailed)[0].error.type == "PermanentError" and len(srv.requests) == 1


async def test_api_key_env_is_resolved_and_never_shown(srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-team-SECRET-4242"
    monkeypatch.setenv("PW_TEAM_API_KEY", key)
    ok = await collect(chat_spec(srv, api_key_env="PW_TEAM_API_KEY"))
    assert srv.requests[-1]["headers"]["authorization"] == f"Bearer {key}"
    assert of(ok, NodeFinished)
    srv.script([{"status": 401, "message": f"Incorrect API key provided: {key}."}])
    failed = await collect(chat_spec(srv, api_key_env="PW_TEAM_API_KEY"))
    (failure,) = of(failed, NodeFailed)
    assert failure.error.message == (
        "Model `openai/gpt-4o-mini` failed with HTTP 401: the API key was rejected. Check the value of "
        "PW_TEAM_API_KEY (named by the node's `api_key_env` param). Provider: Incorrect API key provided: ***.")
    for event in [*ok, *failed]:
        assert key not in str(event_to_dict(event))


async def test_judge_reads_a_structured_verdict(srv: FakeOpenAI) -> None:
    srv.script([{"json": {"score": 0.8, "reason": "Supported by the context."}}])
    spec = make_spec({"a": ("io.input", {}), "judge": ("eval.score", {"method": "judge", "model": MODEL,
                                                                      "api_base": srv.base_url}),
                      "out": ("io.output", {})},
                     [("a", "value", "judge", "answer"), ("judge", "score", "out", "value")])
    events = await collect(spec, {"a": "Paris."})
    (done,) = of(events, NodeFinished, "judge")
    assert done.outputs["score"] == 0.8 and done.outputs["passed"] is True
    assert done.outputs["reason"] == "Supported by the context."
    assert done.outputs["usage"].calls == 1 and done.outputs["usage"].cost_usd > 0
    body = srv.requests[-1]["json"]
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["score", "reason"]
    assert body["messages"][1]["content"] == "Answer: Paris."


async def test_router_follows_the_models_choice_and_skips_the_other_branch(srv: FakeOpenAI) -> None:
    srv.script([{"json": {"route": "technical"}}])
    routes = [{"name": "billing", "description": "Payments"}, {"name": "technical", "description": "Bugs"}]
    spec = make_spec({"q": ("io.input", {}),
                      "router": ("llm.router", {"routes": routes, "model": MODEL, "api_base": srv.base_url}),
                      "pay": ("demo.echo", {"prefix": "pay:"}), "fix": ("demo.echo", {"prefix": "fix:"})},
                     [("q", "value", "router", "text"), ("router", "billing", "pay", "value"),
                      ("router", "technical", "fix", "value")])
    events = await collect(spec, {"q": "The app crashes"})
    (done,) = of(events, NodeFinished, "router")
    assert done.outputs == {"technical": "The app crashes", "route": "technical"}
    assert done.trace["route"] == {"route": "technical", "method": "model", "model_reply": '{"route": "technical"}'}
    assert [e.node_id for e in events if isinstance(e, NodeSkipped)] == ["pay"]
    assert of(events, NodeFinished, "fix")[0].outputs == {"value": "fix:The app crashes"}
    enum = srv.requests[-1]["json"]["response_format"]["json_schema"]["schema"]["properties"]["route"]["enum"]
    assert enum == ["billing", "technical"]
