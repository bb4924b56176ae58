"""The shared model-call helper: litellm kwargs, recording, streaming, error mapping, JSON replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from components_catalog.llm.calls import ModelRequest, call_model, sum_usage
from components_catalog.llm.errors import map_model_error, retry_after_seconds
from components_catalog.llm.providers import load_litellm
from components_catalog.llm.structured_output import parse_json_reply
from components_catalog.types import TokenUsage
from runtime.context import RunContext
from runtime.errors import PermanentError, RetryableError

MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(scope="module")
def litellm() -> Any:
    return load_litellm()


def make_ctx(chunks: list[str] | None = None, attempt: int = 1) -> RunContext:
    def sink(kind: str, node_id: str, payload: Any) -> None:
        if kind == "chunk" and chunks is not None:
            chunks.append(payload)

    return RunContext(run_id="r1", node_id="chat", component_id="llm.chat", attempt=attempt, sink=sink)


@pytest.fixture
def captured(litellm: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every kwargs dict passed to litellm.acompletion; the call itself is answered by `mock_response`."""
    calls: list[dict[str, Any]] = []
    real = litellm.acompletion

    async def spy(**kwargs: Any) -> Any:
        calls.append(dict(kwargs))
        return await real(**kwargs, mock_response="Hello there, friend.")

    monkeypatch.setattr(litellm, "acompletion", spy)
    return calls


async def test_one_call_disables_litellm_retries_and_records_everything(captured: list[dict[str, Any]]) -> None:
    ctx = make_ctx(attempt=2)
    request = ModelRequest(model=MODEL, messages=MESSAGES, temperature=0.3, max_tokens=20, timeout_s=5)
    reply = await call_model(ctx, request)
    (kwargs,) = captured
    assert kwargs["num_retries"] == 0 and kwargs["max_retries"] == 0
    assert (kwargs["temperature"], kwargs["max_tokens"], kwargs["timeout"]) == (0.3, 20, 5)
    assert "api_key" not in kwargs and "stream" not in kwargs
    assert reply.text == "Hello there, friend." and reply.model == MODEL and not reply.fallback_used
    assert reply.usage.calls == 1 and reply.usage.total_tokens > 0 and reply.usage.cost_usd > 0
    (call,) = ctx.trace["model_calls"]
    assert call["model"] == MODEL and call["messages"] == MESSAGES
    assert call["params"] == {"temperature": 0.3, "max_tokens": 20, "timeout": 5, "stream": False}
    assert call["response"] == "Hello there, friend."
    assert call["usage"]["total_tokens"] == reply.usage.total_tokens
    assert call["cost_usd"] == reply.usage.cost_usd
    assert call["attempt"] == 2 and call["fallback_used"] is False and call["latency_ms"] >= 0


async def test_streaming_forwards_deltas_in_order_and_joins_them(captured: list[dict[str, Any]]) -> None:
    chunks: list[str] = []
    ctx = make_ctx(chunks)
    reply = await call_model(ctx, ModelRequest(model=MODEL, messages=MESSAGES, stream=True))
    assert captured[0]["stream"] is True and captured[0]["stream_options"] == {"include_usage": True}
    assert len(chunks) > 1 and "".join(chunks) == reply.text == "Hello there, friend."
    assert reply.usage.completion_tokens > 0
    assert ctx.trace["model_calls"][0]["params"]["stream"] is True


async def test_unknown_model_price_gives_no_cost_and_no_error(captured: list[dict[str, Any]]) -> None:
    ctx = make_ctx()
    await call_model(ctx, ModelRequest(model="openai/no-such-model-xyz", messages=MESSAGES))
    assert ctx.trace["model_calls"][0]["cost_usd"] is None


async def test_calls_append_to_the_record(captured: list[dict[str, Any]]) -> None:
    ctx = make_ctx()
    await call_model(ctx, ModelRequest(model=MODEL, messages=MESSAGES))
    await call_model(ctx, ModelRequest(model=MODEL, messages=[{"role": "user", "content": "again"}]))
    assert [c["messages"][0]["content"] for c in ctx.trace["model_calls"]] == ["Say hello", "again"]


async def test_local_model_is_registered_before_its_first_call() -> None:
    ctx = make_ctx()
    messages = [{"role": "user", "content": "Context: Paris is the capital of France. Cats purr.\n\n"
                                            "Question: What is the capital of France?"}]
    reply = await call_model(ctx, ModelRequest(model="local/extractive", messages=messages))
    assert reply.text == "Paris is the capital of France."
    assert reply.usage.cost_usd == 0.0


async def test_secret_key_is_passed_but_never_recorded(captured: list[dict[str, Any]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW_UNIT_API_KEY", "sk-unit-secret-123")
    ctx = make_ctx()
    await call_model(ctx, ModelRequest(model=MODEL, messages=MESSAGES, api_key_env="PW_UNIT_API_KEY"))
    assert captured[0]["api_key"] == "sk-unit-secret-123"
    assert "sk-unit-secret-123" not in repr(ctx.trace)


async def test_a_missing_key_env_fails_permanently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PW_MISSING_API_KEY", raising=False)
    with pytest.raises(PermanentError, match="needs secret `PW_MISSING_API_KEY`, but that environment variable "
                                             "is not set"):
        await call_model(make_ctx(), ModelRequest(model=MODEL, messages=MESSAGES, api_key_env="PW_MISSING_API_KEY"))


# --- error mapping -----------------------------------------------------------------------------------

def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, request=httpx.Request("POST", "http://127.0.0.1/v1"))


def test_rate_limit_is_retryable_with_the_retry_after_header(litellm: Any) -> None:
    exc = litellm.RateLimitError("slow down", llm_provider="openai", model="gpt-4o-mini",
                                 response=_response(429, {"Retry-After": "7"}))
    error = map_model_error(exc, MODEL)
    assert isinstance(error, RetryableError) and error.retry_after == 7.0
    assert str(error) == ("Model `openai/gpt-4o-mini` is rate limited (HTTP 429); the provider asks to retry "
                          "after 7 s. Provider: slow down")


def test_retry_after_reads_milliseconds_and_http_dates() -> None:
    class Exc(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            super().__init__("x")
            self.litellm_response_headers = httpx.Headers(headers)

    assert retry_after_seconds(Exc({"retry-after-ms": "1500"})) == 1.5
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(Exc({"Retry-After": later})) or 0) <= 30
    assert retry_after_seconds(Exc({"retry-after": "soon"})) is None
    assert retry_after_seconds(ValueError("no headers")) is None


@pytest.mark.parametrize(("name", "kwargs", "expected"), [
    ("AuthenticationError", {"response": _response(401)},
     "Model `openai/gpt-4o-mini` failed with HTTP 401: the API key was rejected. Set OPENAI_API_KEY (or name "
     "another env var in the node's `api_key_env` param). Provider: bad key"),
    ("PermissionDeniedError", {"response": _response(403)},
     "Model `openai/gpt-4o-mini` failed with HTTP 403: the API key is not allowed to use this model. Check the "
     "key's project or organisation access, or pick another model. Provider: bad key"),
    ("NotFoundError", {"response": _response(404)},
     "Model `openai/gpt-4o-mini` failed with HTTP 404: unknown model (or wrong `api_base`). Check the model "
     "name, e.g. `openai/gpt-4o-mini`; the model picker lists the models usable here. Provider: bad key"),
    ("BadRequestError", {"response": _response(400)},
     "Model `openai/gpt-4o-mini` failed with HTTP 400: the provider rejected the request. Check the node's "
     "params (response_schema, max_tokens, temperature) against what this model supports. Provider: bad key"),
    ("ContextWindowExceededError", {"response": _response(400)},
     "Model `openai/gpt-4o-mini`: the prompt does not fit the model's context window (HTTP 400). Shorten the "
     "prompt or use a model with a larger context window. Provider: bad key"),
])
def test_client_errors_are_permanent_with_the_fix(litellm: Any, name: str, kwargs: dict, expected: str) -> None:
    exc = getattr(litellm, name)("bad key", llm_provider="openai", model="gpt-4o-mini", **kwargs)
    error = map_model_error(exc, MODEL)
    assert isinstance(error, PermanentError)
    assert str(error) == expected


def test_auth_hint_names_the_api_key_env_param(litellm: Any) -> None:
    exc = litellm.AuthenticationError("nope", llm_provider="openai", model="gpt-4o-mini")
    error = map_model_error(exc, MODEL, api_key_env="TEAM_OPENAI_API_KEY")
    assert "Check the value of TEAM_OPENAI_API_KEY (named by the node's `api_key_env` param)." in str(error)
    bare = map_model_error(exc, "claude-haiku-4-5")  # provider from litellm's price list
    assert "Set ANTHROPIC_API_KEY" in str(bare)


@pytest.mark.parametrize(("name", "kwargs", "fragment"), [
    ("InternalServerError", {}, "the provider had a server error (HTTP 500)"),
    ("ServiceUnavailableError", {}, "the provider had a server error (HTTP 503)"),
    ("APIConnectionError", {}, "could not reach the provider (connection error). Check `api_base`"),
    ("Timeout", {}, "did not answer within 9 s (the node's `timeout_s` param)"),
])
def test_transient_errors_are_retryable(litellm: Any, name: str, kwargs: dict, fragment: str) -> None:
    exc = getattr(litellm, name)("flaky", llm_provider="openai", model="gpt-4o-mini", **kwargs)
    error = map_model_error(exc, MODEL, timeout_s=9)
    assert isinstance(error, RetryableError) and error.retry_after is None
    assert fragment in str(error)


async def test_no_key_at_all_is_permanent_and_names_the_env_var(litellm: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", "http://127.0.0.1:9/v1")
    with pytest.raises(PermanentError) as info:  # litellm reports this as a 500 "Missing credentials"
        await call_model(make_ctx(), ModelRequest(model=MODEL, messages=MESSAGES, api_base="http://127.0.0.1:9/v1"))
    assert str(info.value).startswith("Model `openai/gpt-4o-mini`: no API key was found. Set OPENAI_API_KEY (or "
                                      "name another env var in the node's `api_key_env` param). Provider: ")


def test_unknown_exceptions_are_retryable_and_redacted(litellm: Any) -> None:
    error = map_model_error(RuntimeError("token sk-abc-123 broke"), MODEL,
                            redact=lambda t: t.replace("sk-abc-123", "***"))
    assert isinstance(error, RetryableError)
    assert str(error) == "Model `openai/gpt-4o-mini` call failed (RuntimeError): token *** broke"


# --- JSON replies and usage --------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"],
          "additionalProperties": False}


def test_json_reply_parses_fenced_json() -> None:
    assert parse_json_reply('```json\n{"n": 3}\n```', SCHEMA, MODEL) == {"n": 3}


def test_json_reply_that_is_not_json_is_retryable() -> None:
    with pytest.raises(RetryableError, match=r"Model `openai/gpt-4o-mini` was asked for JSON matching the "
                                             r"response schema but replied with text that is not JSON"):
        parse_json_reply("three", SCHEMA, MODEL)


def test_json_reply_that_breaks_the_schema_is_retryable() -> None:
    with pytest.raises(RetryableError) as info:
        parse_json_reply('{"n": "three"}', SCHEMA, MODEL)
    assert str(info.value) == ("Model `openai/gpt-4o-mini` replied with JSON that does not match the response "
                               "schema: 'three' is not of type 'integer' (at `n`). Reply: '{\"n\": \"three\"}'.")


def test_an_invalid_schema_is_permanent() -> None:
    with pytest.raises(PermanentError, match="The response schema itself is not a valid JSON Schema"):
        parse_json_reply('{"n": 1}', {"type": "no-such-type"}, MODEL)


def test_usage_sums_tokens_calls_and_known_costs() -> None:
    usages = [TokenUsage(model="a", prompt_tokens=3, completion_tokens=2, total_tokens=5, cost_usd=None),
              TokenUsage(model="b", prompt_tokens=1, completion_tokens=1, total_tokens=2, cost_usd=0.5)]
    total = sum_usage(usages, "b")
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens, total.calls) == (4, 3, 7, 2)
    assert total.cost_usd == 0.5 and total.model == "b"
    assert sum_usage(usages[:1], "a").cost_usd is None


@pytest.mark.parametrize("stream", [True, False])
async def test_litellm_banners_stay_off_when_someone_else_imported_litellm(
        litellm: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], stream: bool) -> None:
    """litellm prints "Provider List: ..." to stdout for `local/...` (a provider it does not know) unless
    `suppress_debug_info` is set; whoever imported it first may not have set it."""
    monkeypatch.setattr(litellm, "suppress_debug_info", False)
    reply = await call_model(make_ctx(), ModelRequest(model="local/extractive", messages=MESSAGES, stream=stream))
    assert reply.text
    out, err = capfd.readouterr()
    assert "Provider List" not in out + err
