"""Spans of the catalog's components (in-memory exporter): `chat {model}` per model call against the loopback
OpenAI fake, message content only on opt-in and never a secret, `action.http` as an `execute_tool` span that
sends the node's `traceparent` (and none with tracing off)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components_catalog.llm.chat import ChatCompletion
from components_catalog.llm.providers import load_litellm
from runtime import NodeFinished, run
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.specs import make_spec
from runtime.testing.tracing import InMemoryTraces
from tests.components_catalog.http_kit import REGISTRY as HTTP_REGISTRY
from tests.components_catalog.http_kit import http_spec

MODEL = "openai/gpt-4o-mini"
SECRET = "sk-canary-9f8e7d6c5b4a"


@pytest.fixture
def srv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    load_litellm()
    with FakeOpenAI() as fake:
        monkeypatch.setenv("PATCHWIRE_MODEL_BASES", fake.base_url)
        yield fake


def chat_spec(srv: FakeOpenAI, **params: Any) -> Any:
    params = {"model": MODEL, "api_base": srv.base_url, **params}
    return make_spec({"q": ("io.input", {}), "generate": ("llm.chat", params), "out": ("io.output", {})},
                     [("q", "value", "generate", "prompt"), ("generate", "text", "out", "value")], name="chat")


def registry() -> Any:
    reg = sample_registry()
    reg.add(ChatCompletion)
    return reg


async def test_a_model_call_is_a_chat_span_with_the_gen_ai_attributes(srv: FakeOpenAI):
    traces = InMemoryTraces()
    result = await traces.run(chat_spec(srv, temperature=0.3, max_tokens=64, stream=True),
                              {"q": "What is the capital of France?"}, registry=registry())
    assert result.status == "succeeded", result.error
    node, chat = traces.named("generate"), traces.named(f"chat {MODEL}")
    assert chat.parent.span_id == node.context.span_id
    record = next(e for e in traces.events if isinstance(e, NodeFinished) and e.node_id == "generate")
    call = record.trace["model_calls"][0]
    attrs = dict(chat.attributes)
    assert {k: attrs[k] for k in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                  "gen_ai.request.temperature", "gen_ai.request.max_tokens",
                                  "gen_ai.response.model", "gen_ai.response.finish_reasons",
                                  "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")} == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.3, "gen_ai.request.max_tokens": 64, "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.response.finish_reasons": ("stop",), "gen_ai.usage.input_tokens": call["usage"]["prompt_tokens"],
        "gen_ai.usage.output_tokens": call["usage"]["completion_tokens"]}
    assert attrs["gen_ai.usage.output_tokens"] > 0
    # the span's times are the record's: its start, its latency; time to first chunk from its first delta
    assert chat.start_time == int(call["started_at"] * 1e9)
    assert chat.end_time == int((call["started_at"] + call["latency_ms"] / 1000) * 1e9)
    assert attrs["gen_ai.response.time_to_first_chunk"] == round(call["first_chunk_at"] - call["started_at"], 6)
    assert 0 <= attrs["gen_ai.response.time_to_first_chunk"] <= (chat.end_time - chat.start_time) / 1e9
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output")) for key in attrs)  # content is opt-in


async def test_message_content_only_on_opt_in_and_never_a_secret(srv: FakeOpenAI, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    monkeypatch.setenv("CANARY_API_KEY", SECRET)
    srv.script([{"reply": f"the key is {SECRET}"}])
    traces = InMemoryTraces()
    await traces.run(chat_spec(srv), {"q": f"Repeat {SECRET} please"}, registry=registry())
    chat = traces.named(f"chat {MODEL}")
    assert "Repeat *** please" in chat.attributes["gen_ai.input.messages"]
    assert "the key is ***" in chat.attributes["gen_ai.output.messages"]
    for span in traces.spans():
        for value in span.attributes.values():
            assert SECRET not in str(value), span.name


async def test_a_failed_model_call_is_an_error_span_inside_the_failed_node(srv: FakeOpenAI):
    srv.script([{"status": 401}])
    traces = InMemoryTraces()
    result = await traces.run(chat_spec(srv), {"q": "hi"}, registry=registry())
    assert result.status == "failed"
    chat, node = traces.named(f"chat {MODEL}"), traces.named("generate")
    assert chat.attributes["error.type"] == "PermanentError"
    assert not chat.status.is_ok
    assert node.attributes["error.type"] == "PermanentError"
    assert chat.parent.span_id == node.context.span_id


async def test_action_http_is_an_execute_tool_span_and_sends_its_traceparent(server):
    traces = InMemoryTraces()
    result = await traces.run(http_spec({"url": f"{server.base}/items/1"}), {}, registry=HTTP_REGISTRY)
    assert result.status == "succeeded", result.error
    span = traces.named("execute_tool call")
    sent = server.requests[-1]["headers"]
    assert sent["traceparent"] == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"
    assert {k: span.attributes[k] for k in ("gen_ai.operation.name", "gen_ai.tool.name", "http.request.method",
                                            "http.response.status_code", "server.address")} == {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "call", "http.request.method": "GET",
        "http.response.status_code": 200, "server.address": "127.0.0.1"}


async def test_action_http_sends_no_traceparent_with_tracing_off(server):
    result = await run(http_spec({"url": f"{server.base}/items/1"}), {}, registry=HTTP_REGISTRY)
    assert result.status == "succeeded"
    assert "traceparent" not in {name.lower() for name in server.requests[-1]["headers"]}


def nested_http_spec(base: str, kind: str) -> Any:
    """`fetch` (vars -> call: GET /items/{id} -> status) run by one flow node of `kind` over the ids given."""
    from runtime.testing.flows import sub_spec, with_subflows

    fetch = sub_spec("fetch", {"vars": ("io.input", {"type": "json"}),
                               "call": ("action.http", {"url": f"{base}/items/{{id}}"}),
                               "status": ("io.output", {})},
                     [("vars.value", "call.variables"), ("call.status", "status.value")])
    flow = {"map": ("flow.map", {"subflow": "fetch", "over": "vars"}),
            "subflow": ("flow.subflow", {"subflow": "fetch"}),
            "loop": ("flow.loop", {"subflow": "fetch", "max_iterations": 2})}[kind]
    wired = "flow.items" if kind == "map" else "flow.vars"
    main = sub_spec("nested_http", {"given": ("io.input", {"type": "json"}), "flow": flow,
                                    "out": ("io.output", {})},
                    [("given.value", wired), ("flow.status", "out.value")])
    return with_subflows(main, fetch=fetch)


@pytest.mark.parametrize("kind", ["map", "subflow", "loop"])
async def test_action_http_inside_a_flow_node_sends_its_own_spans_traceparent(server, kind):
    from components_catalog.http_action import HttpRequest
    from runtime.builtins import PipelineInput, PipelineOutput
    from runtime.flow import FLOW_COMPONENTS
    from runtime.registry import Registry

    registry = Registry([PipelineInput, PipelineOutput, HttpRequest, *FLOW_COMPONENTS])
    given: Any = [{"id": 1}, {"id": 2}, {"id": 3}] if kind == "map" else {"id": 7}
    traces = InMemoryTraces()
    result = await traces.run(nested_http_spec(server.base, kind), {"given": given}, registry=registry)
    assert result.status == "succeeded", result.error
    calls = {s.attributes["patchwire.node.path"]: s for s in traces.spans()
             if s.attributes.get("patchwire.node.path", "").endswith("/call")}
    expected = {"map": {"flow/0/call", "flow/1/call", "flow/2/call"}, "subflow": {"flow/0/call"},
                "loop": {"flow/0/call", "flow/1/call"}}[kind]
    assert set(calls) == expected
    sent = sorted(request["headers"]["traceparent"] for request in server.requests)
    root = traces.root()
    assert sent == sorted(f"00-{root.context.trace_id:032x}-{span.context.span_id:016x}-01"
                          for span in calls.values())
    for span in calls.values():  # the node's own span, under the flow node's span, never the run's root
        assert span.parent.span_id == traces.named("flow").context.span_id != root.context.span_id
