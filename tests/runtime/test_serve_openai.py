"""`patchwire serve`'s OpenAI-compatible API, driven by clients no one here wrote: the official `openai` SDK
(sync, async, streaming; chat completions, responses, models) and litellm, against a real uvicorn server.

The pipelines' model node is `llm.chat` talking to the loopback fake OpenAI server, so tokens really
stream from a "model" through the executor to the client.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from components_catalog.llm.chat import ChatCompletion
from components_catalog.llm.providers import load_litellm
from runtime.serving.app import create_app
from runtime.serving.records import record_consumers_for
from runtime.spec import PipelineSpec
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.servers import serve_app
from runtime.testing.specs import make_spec

TOKEN = "openai-token-3c9e1f7a5b2d8e40"
QUESTION = "what does the patchwire runtime do with many nodes"


def registry() -> Any:
    reg = sample_registry()
    reg.add(ChatCompletion)
    return reg


def with_interface(spec: PipelineSpec, **chat: Any) -> PipelineSpec:
    return PipelineSpec.model_validate({**spec.model_dump(mode="json"), "interface": {"chat": chat}})


def assistant(srv: FakeOpenAI, name: str = "assistant", **chat_params: Any) -> PipelineSpec:
    """query -> llm.chat (the fake model, streaming) -> answer."""
    params = {"model": "openai/gpt-4o-mini", "api_base": srv.base_url, "max_tokens": 64, **chat_params}
    return make_spec({"query": ("io.input", {"name": "query"}), "generate": ("llm.chat", params),
                      "answer": ("io.output", {})},
                     [("query", "value", "generate", "prompt"), ("generate", "text", "answer", "value")], name=name)


def gated(name: str = "gated") -> PipelineSpec:
    """The answer fires only for "ok"; anything else goes to `review_task` (like the RAG template's review)."""
    spec = make_spec({"q": ("io.input", {"name": "query"}), "gate": ("demo.router", {"routes": ["ok", "review"]}),
                      "answer": ("io.output", {}), "review_task": ("io.output", {})},
                     [("q", "value", "gate", "value"), ("gate", "ok", "answer", "value"),
                      ("gate", "review", "review_task", "value")], name=name)
    return with_interface(spec, input="query", output="answer")


def two_inputs() -> PipelineSpec:
    return make_spec({"a": ("io.input", {}), "b": ("io.input", {}), "j": ("demo.join", {}), "o": ("io.output", {})},
                     [("a", "value", "j", "a"), ("b", "value", "j", "b"), ("j", "value", "o", "value")],
                     name="two-inputs")


def broken() -> PipelineSpec:
    return make_spec({"q": ("io.input", {"name": "query"}), "s": ("demo.raise", {"message": "the model is down"}),
                      "o": ("io.output", {})}, [("q", "value", "s", "value"), ("s", "value", "o", "value")],
                     name="broken")


def slow() -> PipelineSpec:
    return make_spec({"q": ("io.input", {"name": "query"}), "s": ("demo.delay", {"seconds": 5}),
                      "o": ("io.output", {})}, [("q", "value", "s", "value"), ("s", "value", "o", "value")],
                     name="slow")


def with_history() -> PipelineSpec:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "h": ("io.input", {"name": "history", "type": "json"}),
                      "e": ("demo.echo", {"prefix": "echo: "}), "o": ("io.output", {})},
                     [("q", "value", "e", "value"), ("e", "value", "o", "value")], name="remembers")
    return with_interface(spec, input="query", output="o", history="history")


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A slow model: 0.15 s between streamed tokens."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", "127.0.0.1")  # the loopback model servers here are trusted
    load_litellm()
    with FakeOpenAI(chunk_delay=0.15) as server:
        yield server


@pytest.fixture
def url(model: FakeOpenAI, fresh_database) -> Iterator[str]:
    specs = [assistant(model), gated(), two_inputs(), broken(), slow(), with_history()]
    app = create_app(specs, registry(), api_token="", consumers_for=record_consumers_for(True))
    with serve_app(app) as base:
        yield base


def sdk(url: str, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=options.pop("api_key", "unused"), max_retries=0, **options)


def stored(run_id: str) -> Any:
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    RunRecorder().flush()
    found = get_run(run_id)
    assert found is not None, f"run {run_id} was not recorded"
    return found


def test_models_lists_every_pipeline_and_says_which_cannot_chat(url: str) -> None:
    client = sdk(url)
    models = {m.id: m for m in client.models.list()}
    assert list(models) == ["patchwire/assistant", "patchwire/gated", "patchwire/two-inputs", "patchwire/broken",
                            "patchwire/slow", "patchwire/remembers"]
    assert models["patchwire/assistant"].owned_by == "patchwire"
    about = models["patchwire/two-inputs"].model_extra["patchwire"]
    assert about["chat"] is False
    assert about["reason"] == ('it has 2 `string` inputs (`a`, `b`), not one, and no `interface.chat`: declare '
                               '`"interface": {"chat": {"input": "<input name>", "output": "<output node id>"}}` '
                               'in the spec.')
    assert client.models.retrieve("patchwire/gated").id == "patchwire/gated"


def test_chat_completion_answers_with_the_pipeline_output_usage_and_run_id(url: str) -> None:
    raw = sdk(url).chat.completions.with_raw_response.create(
        model="patchwire/assistant", temperature=0.2, max_tokens=50,  # sampling knobs: the pipeline's own apply
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": QUESTION}])
    completion = raw.parse()
    run_id = raw.headers["x-patchwire-run-id"]
    assert completion.id == f"chatcmpl-{run_id}" and completion.model == "patchwire/assistant"
    assert completion.choices[0].message.content == f"ANSWER: {QUESTION}"
    assert completion.choices[0].finish_reason == "stop"
    words = len(QUESTION.split())  # the fake counts words: prompt = the question, reply = ANSWER: + question
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (words, words + 1)
    record, _ = stored(run_id)
    assert (record.source, record.status, record.outputs) == ("openai", "succeeded",
                                                               {"answer": f"ANSWER: {QUESTION}"})
    assert record.total_tokens == completion.usage.total_tokens


def test_async_client_runs_requests_concurrently(url: str) -> None:
    async def ask_three() -> list[str]:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        replies = await asyncio.gather(*(client.chat.completions.create(
            model="patchwire/assistant", messages=[{"role": "user", "content": f"question {i}"}]) for i in range(3)))
        return [r.choices[0].message.content for r in replies]

    assert asyncio.run(ask_three()) == ["ANSWER: question 0", "ANSWER: question 1", "ANSWER: question 2"]


def test_streamed_tokens_reach_the_client_while_the_model_is_still_writing(url: str, model: FakeOpenAI) -> None:
    arrivals: list[tuple[float, str]] = []
    usage = None
    stream = sdk(url).chat.completions.create(model="patchwire/assistant", stream=True,
                                              stream_options={"include_usage": True},
                                              messages=[{"role": "user", "content": QUESTION}])
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((time.time(), chunk.choices[0].delta.content))
        if chunk.usage is not None:
            usage = chunk.usage
    model_sent = model.requests[-1]["chunk_times"]  # when the fake model wrote each of its SSE events
    assert len(arrivals) >= 8, "the tokens came as one block, not streamed"
    assert arrivals[0][0] < model_sent[-1] - 0.5, "the first token arrived only after the model had finished"
    assert arrivals[-1][0] - arrivals[0][0] > 0.8  # 9 tokens 0.15 s apart
    streamed = "".join(text for _, text in arrivals)
    assert streamed == f"ANSWER: {QUESTION}"
    records = [r for r in _recent_runs() if r.source == "openai"]
    assert records[-1].outputs == {"answer": streamed}
    assert usage is not None and usage.total_tokens == records[-1].total_tokens > 0


def _recent_runs() -> list[Any]:
    from sqlmodel import select

    from runtime.store.db import session
    from runtime.store.recorder import RunRecorder
    from runtime.store.tables import RunRecord

    RunRecorder().flush()
    with session() as s:
        return list(s.exec(select(RunRecord).order_by(RunRecord.started_at)))


def test_responses_api_plain_and_streamed(url: str) -> None:
    client = sdk(url)
    response = client.responses.create(model="patchwire/assistant", input=QUESTION)
    assert response.status == "completed" and response.output_text == f"ANSWER: {QUESTION}"
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0
    events = list(client.responses.create(model="patchwire/assistant", input=[
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]}], stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) >= 8 and "".join(deltas) == events[-1].response.output_text == f"ANSWER: {QUESTION}"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_litellm_calls_a_pipeline_as_a_model(url: str) -> None:
    litellm = load_litellm()
    reply = litellm.completion(model="openai/patchwire/assistant", api_base=f"{url}/v1", api_key="unused",
                               messages=[{"role": "user", "content": "hello there"}], max_retries=0)
    assert reply.choices[0].message.content == "ANSWER: hello there"
    pieces = litellm.completion(model="openai/patchwire/assistant", api_base=f"{url}/v1", api_key="unused",
                                messages=[{"role": "user", "content": "hello there"}], stream=True)
    assert "".join(p.choices[0].delta.content or "" for p in pieces) == "ANSWER: hello there"


def test_a_pipeline_is_a_model_inside_another_pipeline(url: str, model: FakeOpenAI) -> None:
    from runtime import run

    outer = make_spec({"q": ("io.input", {}), "ask": ("llm.chat", {"model": "openai/patchwire/assistant",
                                                                    "api_base": f"{url}/v1", "stream": True}),
                       "o": ("io.output", {})}, [("q", "value", "ask", "prompt"), ("ask", "text", "o", "value")])
    result = asyncio.run(run(outer, {"q": "nested question"}, registry=registry()))
    assert result.status == "succeeded" and result.outputs == {"o": "ANSWER: nested question"}


def test_an_output_that_did_not_fire_is_said_in_the_reply(url: str) -> None:
    client = sdk(url)
    ok = client.chat.completions.create(model="patchwire/gated", messages=[{"role": "user", "content": "ok"}])
    assert ok.choices[0].message.content == "ok"
    routed = client.chat.completions.create(model="patchwire/gated",
                                            messages=[{"role": "user", "content": "review"}])
    content = routed.choices[0].message.content
    assert content.startswith("[No answer: this run of pipeline `gated` did not produce its `answer` output: no "
                              "upstream value arrived (`gate.ok` did not fire). The run produced `review_task` = "
                              "review instead. Run id: ")
    streamed = client.chat.completions.create(model="patchwire/gated", stream=True,
                                              messages=[{"role": "user", "content": "review"}])
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert text.startswith("[No answer: this run of pipeline `gated` did not produce its `answer` output: no ")


def test_earlier_messages_go_to_the_history_input(url: str) -> None:
    raw = sdk(url).chat.completions.with_raw_response.create(model="patchwire/remembers", messages=[
        {"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": [{"type": "text", "text": "again"}]}])
    assert raw.parse().choices[0].message.content == "echo: again"
    record, _ = stored(raw.headers["x-patchwire-run-id"])
    assert record.inputs == {"query": "again", "history": [
        {"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}]}


def test_errors_are_openai_error_objects_with_openai_status_codes(url: str) -> None:
    client = sdk(url)
    user = [{"role": "user", "content": "x"}]
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="patchwire/nope", messages=user)
    assert missing.value.code == "model_not_found" and missing.value.param == "model"
    assert missing.value.body["message"].startswith("The model `patchwire/nope` does not exist or you do not have "
                                                    "access to it. Served models: `patchwire/assistant`,")
    with pytest.raises(openai.BadRequestError) as unmappable:
        client.chat.completions.create(model="patchwire/two-inputs", messages=user)
    assert unmappable.value.body["message"].startswith("The model `patchwire/two-inputs` (pipeline `two-inputs`) "
                                                       "cannot be used for chat: it has 2 `string` inputs")
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(model="patchwire/assistant", messages=user, extra_body={"colour": "red"})
    assert unknown.value.body == {"message": "Unrecognized request argument supplied: colour",
                                  "type": "invalid_request_error", "param": "colour", "code": "unknown_parameter"}
    with pytest.raises(openai.BadRequestError) as several:
        client.chat.completions.create(model="patchwire/assistant", messages=user, n=2)
    assert several.value.param == "n"
    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(model="patchwire/assistant", messages=[*user, {"role": "assistant",
                                                                                      "content": "y"}])
    assert "The last message must be a `user` message (got `assistant`)" in last.value.body["message"]


def test_a_failed_run_is_a_500_and_a_run_over_the_time_limit_a_504(url: str) -> None:
    client = sdk(url)
    user = [{"role": "user", "content": "x"}]
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model="patchwire/broken", messages=user)
    assert failed.value.status_code == 500 and failed.value.code == "pipeline_failed"
    assert failed.value.body["message"].startswith("Pipeline `broken` failed: Node `s` failed: the model is down")
    assert failed.value.response.headers["x-patchwire-run-id"] in failed.value.body["message"]
    quick_app = create_app([slow()], sample_registry(), api_token="", request_timeout_s=0.5)
    with serve_app(quick_app) as short, pytest.raises(openai.APIStatusError) as late:
        sdk(short).chat.completions.create(model="patchwire/slow", messages=user)
    assert late.value.status_code == 504 and late.value.code == "timeout"
    assert late.value.body["message"].startswith("Pipeline `slow` took longer than the 0.5 s request limit; the run "
                                                 "was cancelled")
    with pytest.raises(openai.APIError) as mid_stream:  # the error arrives after the stream started
        list(client.chat.completions.create(model="patchwire/broken", messages=user, stream=True))
    assert "the model is down" in str(mid_stream.value)


# --- the gate: every new route obeys the same token, Host and Origin rules as the rest of `serve` ----------

ROUTES = [("GET", "/v1/models", None), ("GET", "/v1/models/patchwire/echo", None),
          ("POST", "/v1/chat/completions", {"model": "patchwire/echo", "messages": [{"role": "user", "content": "x"}]}),
          ("POST", "/v1/responses", {"model": "patchwire/echo", "input": "x"})]


def echo_app(token: str) -> Any:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": "E:"}),
                      "o": ("io.output", {})}, [("q", "value", "e", "value"), ("e", "value", "o", "value")], name="echo")
    return create_app([spec], sample_registry(), api_token=token, allowed_hosts=("testserver",))


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_routes_refuse_a_missing_or_wrong_token(method: str, path: str, body: Any) -> None:
    client = TestClient(echo_app(TOKEN))
    for headers, message in (({}, "Authentication required: send `Authorization: Bearer <token>`"),
                             ({"Authorization": "Bearer wrong-token-000000000"}, "Invalid bearer token.")):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["message"].startswith(message) and error["code"] == "invalid_api_key"
    ok = client.request(method, path, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_routes_refuse_a_foreign_host_or_origin_without_a_token(method: str, path: str, body: Any) -> None:
    client = TestClient(echo_app(""))
    host = client.request(method, path, json=body, headers={"Host": "evil.example"})
    assert host.status_code == 400 and host.json()["error"]["message"].startswith(
        "The `Host` header `evil.example` is not allowed here")
    origin = client.request(method, path, json=body, headers={"Origin": "https://evil.example"})
    assert origin.status_code == 403 and origin.json()["error"]["code"] == "cross_site_request"
    assert client.request(method, path, json=body).status_code == 200


def test_the_sdk_sees_an_authentication_error_without_the_token() -> None:
    with serve_app(echo_app(TOKEN)) as base:
        with pytest.raises(openai.AuthenticationError):
            sdk(base, api_key="wrong-token-000000000").models.list()
        reply = sdk(base, api_key=TOKEN).chat.completions.create(
            model="patchwire/echo", messages=[{"role": "user", "content": "x"}])
        assert reply.choices[0].message.content == "E:x"


def test_a_body_that_is_not_json_is_a_400_in_openai_shape() -> None:
    response = TestClient(echo_app("")).post("/v1/chat/completions", content=b"{nope",
                                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("We could not parse the JSON body of your request")
    assert error["type"] == "invalid_request_error"


def test_a_reply_that_does_not_continue_the_stream_follows_it_after_a_blank_line() -> None:
    """A node after `stream_from` rewrote the text: the client keeps what it saw, then gets the final reply."""
    spec = with_interface(make_spec(
        {"q": ("io.input", {"name": "query"}), "s": ("demo.stream", {"words": 3}), "e": ("demo.echo", {"prefix": "done:"}),
         "o": ("io.output", {})}, [("q", "value", "s", "value"), ("s", "value", "e", "value"), ("e", "value", "o", "value")],
        name="rewrites"), input="query", output="o", stream_from="s")
    client = TestClient(create_app([spec], sample_registry(), api_token="", allowed_hosts=("testserver",)))
    body = {"model": "patchwire/rewrites", "messages": [{"role": "user", "content": "hi"}]}
    plain = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    stream = client.post("/v1/chat/completions", json={**body, "stream": True}).text
    chunks = [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: {")]
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert plain == "done:hi"
    assert deltas == ["", "hi-0 ", "hi-1 ", "hi-2 ", "\n\ndone:hi", None]
    assert stream.endswith("data: [DONE]\n\n")


def test_a_body_over_the_limit_is_a_413_in_openai_shape() -> None:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "o": ("io.output", {})}, [("q", "value", "o", "value")],
                     name="echo")
    client = TestClient(create_app([spec], sample_registry(), api_token="", allowed_hosts=("testserver",),
                                   max_body_bytes=100))
    response = client.post("/v1/chat/completions", json={"model": "patchwire/echo", "messages": [
        {"role": "user", "content": "x" * 200}]})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large" and error["message"].startswith("Request body too large: ")
