"""The loopback OpenAI fake, driven through litellm exactly as `llm.chat` will drive a real provider."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from runtime.testing.fake_openai import FakeOpenAI, fake_embedding

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def litellm() -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    return litellm


@pytest.fixture()
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def call(litellm: Any, srv: FakeOpenAI, **extra: Any) -> Any:
    kwargs = {"api_base": srv.base_url, "api_key": "sk-test", "num_retries": 0, "max_retries": 0, **extra}
    return litellm.acompletion(model="openai/gpt-4o-mini", messages=MESSAGES, **kwargs)


@pytest.mark.asyncio
async def test_default_reply_echoes_the_prompt_with_usage(litellm: Any, srv: FakeOpenAI) -> None:
    response = await call(litellm, srv)
    assert response.choices[0].message.content == "ANSWER: What is the capital of France?"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (6, 7)


@pytest.mark.asyncio
async def test_requests_are_recorded(litellm: Any, srv: FakeOpenAI) -> None:
    await call(litellm, srv, temperature=0.2)
    (request,) = srv.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["json"]["messages"] == MESSAGES
    assert request["json"]["temperature"] == 0.2


@pytest.mark.asyncio
async def test_streaming_sends_chunks_and_a_usage_chunk(litellm: Any, srv: FakeOpenAI) -> None:
    stream = await call(litellm, srv, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 3
    assert "".join(texts) == "ANSWER: What is the capital of France?"
    assert chunks[-1].usage.completion_tokens == 7


@pytest.mark.asyncio
async def test_scripted_replies_are_consumed_in_order_then_default(litellm: Any, srv: FakeOpenAI) -> None:
    srv.script([{"reply": "custom text"}, {"json": {"score": 0.5, "reason": "ok"}}])
    first, second, third = [await call(litellm, srv) for _ in range(3)]
    assert first.choices[0].message.content == "custom text"
    assert json.loads(second.choices[0].message.content) == {"score": 0.5, "reason": "ok"}
    assert third.choices[0].message.content.startswith("ANSWER: ")


@pytest.mark.asyncio
async def test_429_is_a_rate_limit_error_with_retry_after(litellm: Any, srv: FakeOpenAI) -> None:
    srv.script([{"status": 429, "retry_after": 1}])
    with pytest.raises(litellm.RateLimitError) as caught:
        await call(litellm, srv)
    assert caught.value.status_code == 429
    assert caught.value.litellm_response_headers.get("Retry-After") == "1"
    assert "Rate limit reached" in str(caught.value)


@pytest.mark.asyncio
async def test_429_on_a_stream_raises_before_the_first_chunk(litellm: Any, srv: FakeOpenAI) -> None:
    srv.script([{"status": 429, "retry_after": 2}])
    with pytest.raises(litellm.RateLimitError) as caught:
        await call(litellm, srv, stream=True)
    assert caught.value.litellm_response_headers["retry-after"] == "2"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("behaviour", "exception", "status"),
    [
        ({"status": 500}, "InternalServerError", 500),
        ({"status": 401}, "AuthenticationError", 401),
        ({"status": 403}, "APIError", 403),  # litellm's openai mapping has no 403 case
        ({"status": 400}, "BadRequestError", 400),
        ({"status": 400, "code": "context_length_exceeded"}, "ContextWindowExceededError", 400),
        ({"malformed": True}, "InternalServerError", 500),
        ({"status": 404}, "NotFoundError", 404),
        ({"status": 503}, "ServiceUnavailableError", 503),
    ],
)
async def test_each_behaviour_maps_to_the_documented_exception(
    litellm: Any, srv: FakeOpenAI, behaviour: dict[str, Any], exception: str, status: int
) -> None:
    srv.script([behaviour])
    with pytest.raises(Exception) as caught:
        await call(litellm, srv)
    assert type(caught.value) is getattr(litellm, exception)
    assert caught.value.status_code == status


@pytest.mark.asyncio
async def test_context_window_error_carries_openais_message(litellm: Any, srv: FakeOpenAI) -> None:
    srv.script([{"status": 400, "code": "context_length_exceeded"}])
    with pytest.raises(litellm.ContextWindowExceededError, match="maximum context length is 128000 tokens"):
        await call(litellm, srv)


@pytest.mark.asyncio
async def test_delay_slows_the_reply_and_trips_a_client_timeout(litellm: Any, srv: FakeOpenAI) -> None:
    srv.script([{"delay": 0.3}, {"delay": 2.0}])
    started = time.perf_counter()
    await call(litellm, srv)
    assert time.perf_counter() - started >= 0.3
    with pytest.raises(litellm.Timeout):
        await call(litellm, srv, timeout=0.2)


@pytest.mark.asyncio
async def test_embeddings_are_deterministic_unit_vectors(litellm: Any, srv: FakeOpenAI) -> None:
    response = await litellm.aembedding(
        model="openai/text-embedding-3-small", input=["a", "b"], api_base=srv.base_url, api_key="sk-test"
    )
    vectors = [item["embedding"] for item in response.data]
    assert vectors == [fake_embedding("a"), fake_embedding("b")]
    assert abs(sum(v * v for v in vectors[0]) - 1.0) < 1e-9


def test_models_endpoint_and_unknown_behaviour_keys(srv: FakeOpenAI) -> None:
    with urllib.request.urlopen(f"{srv.base_url}/models", timeout=5) as reply:
        body = json.load(reply)
    assert [m["id"] for m in body["data"]] == ["gpt-4o-mini"]
    with pytest.raises(ValueError, match=r"Unknown behaviour keys \['stauts'\]"):
        srv.script([{"stauts": 500}])


def test_stop_is_prompt_even_with_a_request_in_a_delay() -> None:
    server = FakeOpenAI().start()
    server.script([{"delay": 10}])
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=b"{}", method="POST")

    def post() -> None:
        with contextlib.suppress(Exception):
            urllib.request.urlopen(request, timeout=15)

    threading.Thread(target=post, daemon=True).start()
    while not server.requests:
        time.sleep(0.01)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2


def _stream_arrivals(server: FakeOpenAI) -> list[float]:
    body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "a b c d"}]}).encode()
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    arrivals = []
    with urllib.request.urlopen(request, timeout=15) as reply:
        for line in reply:
            if line.startswith(b"data: {") and b'"content": "' in line and b'"content": ""' not in line:
                arrivals.append(time.time())
    return arrivals


def test_a_slow_model_spaces_its_tokens_and_notes_when_each_left() -> None:
    with FakeOpenAI(chunk_delay=0.2) as server:
        arrivals = _stream_arrivals(server)  # ANSWER: a b c d -> five content chunks
        sent = server.requests[-1]["chunk_times"]
    assert len(arrivals) == 5 and arrivals[-1] - arrivals[0] > 0.7
    assert len(sent) == 8  # role chunk, 5 content chunks, finish chunk, [DONE]
    assert all(later >= earlier for earlier, later in zip(sent, sent[1:], strict=False))
    with FakeOpenAI() as fast:
        server_arrivals = _stream_arrivals(fast)
    assert server_arrivals[-1] - server_arrivals[0] < 0.5


async def test_each_event_leaves_at_once_without_waiting_for_an_ack(litellm: Any) -> None:
    """TCP_NODELAY: the first token is not held back behind the role chunk (Nagle + delayed ACK: ~40 ms on
    a kept-alive connection, as litellm's client keeps them)."""
    with FakeOpenAI(chunk_delay=0.1) as server:
        lags = []
        for i in range(6):
            reply = await litellm.acompletion(model="openai/gpt-4o-mini", api_base=server.base_url,
                                              api_key="sk-test", stream=True, messages=[{"role": "user",
                                                                                         "content": f"q {i}"}])
            async for chunk in reply:
                if chunk.choices[0].delta.content and len(lags) == i:
                    lags.append(time.time() - server.requests[-1]["chunk_times"][1])
    assert sorted(lags[2:])[1] < 0.02, lags  # the first two open the connection
