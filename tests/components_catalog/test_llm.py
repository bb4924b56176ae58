"""`llm.chat`, `text.rewrite` and `llm.router`, offline: the `local/extractive` stand-in and litellm mocks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components_catalog.llm.chat import ChatCompletion, ChatInputs, ChatParams
from components_catalog.llm.local_model import NO_CONTEXT_ANSWER
from components_catalog.llm.params import render_context
from components_catalog.llm.providers import load_litellm
from components_catalog.llm.rewrite import (
    DEFAULT_REWRITE_INSTRUCTION,
    QueryRewrite,
    RewriteInputs,
    RewriteParams,
)
from components_catalog.llm.router import LLMRouter, RouterInputs, RouterParams, parse_route
from components_catalog.types import Document
from runtime import NodeChunk, NodeFinished, NodeSkipped, execute
from runtime.context import RunContext
from runtime.errors import RetryableError
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

CONTEXT = ("Paris is the capital of France. The Eiffel Tower was finished in 1889. "
           "Bananas are rich in potassium.")
ROUTES = [{"name": "billing", "description": "Invoices, payments, refunds and charges on the bill"},
          {"name": "technical", "description": "Software bugs, crashes, error messages and login problems"}]


def registry() -> Any:
    reg = sample_registry()
    for cls in (ChatCompletion, QueryRewrite, LLMRouter):
        reg.add(cls)
    return reg


def make_ctx(chunks: list[str] | None = None) -> RunContext:
    def sink(kind: str, node_id: str, payload: Any) -> None:
        if kind == "chunk" and chunks is not None:
            chunks.append(payload)

    return RunContext(run_id="r1", node_id="n1", component_id="test", sink=sink)


@pytest.fixture
def reply_with(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`reply_with("text")`: every litellm call answers `text` (litellm's own `mock_response`)."""
    litellm = load_litellm()
    real = litellm.acompletion

    def install(text: str) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        async def fake(**kwargs: Any) -> Any:
            calls.append(kwargs)
            return await real(**kwargs, mock_response=text)

        monkeypatch.setattr(litellm, "acompletion", fake)
        return calls

    return install


async def collect(spec: Any, inputs: dict[str, Any]) -> list[Any]:
    return [event async for event in execute(spec, inputs, registry=registry())]


# --- llm.chat ---------------------------------------------------------------------------------------

async def test_chat_streams_the_local_answer_through_the_pipeline() -> None:
    spec = make_spec({"q": ("io.input", {}), "ctx": ("io.input", {}), "chat": ("llm.chat", {}),
                      "out": ("io.output", {})},
                     [("q", "value", "chat", "prompt"), ("ctx", "value", "chat", "context"),
                      ("chat", "text", "out", "value")])
    events = await collect(spec, {"q": "What is the capital of France?", "ctx": CONTEXT})
    chunks = [e.text for e in events if isinstance(e, NodeChunk) and e.node_id == "chat"]
    (done,) = [e for e in events if isinstance(e, NodeFinished) and e.node_id == "chat"]
    assert done.outputs["text"] == "Paris is the capital of France." == "".join(chunks)
    assert len(chunks) > 1
    assert "data" not in done.outputs  # no response_schema: the port does not fire
    usage = done.outputs["usage"]
    assert usage.model == "local/extractive" and usage.calls == 1 and usage.cost_usd == 0.0
    (call,) = done.trace["model_calls"]
    assert call["response"] == done.outputs["text"] and call["usage"]["completion_tokens"] == usage.completion_tokens


async def test_chat_sends_documents_as_a_numbered_delimited_context_block() -> None:
    docs = [Document(id="a", text="Paris is the capital of France."), Document(id="b", text="Rome is in Italy.")]
    node = ChatCompletion(ChatParams(system_prompt="Answer briefly.", stream=False))
    ctx = make_ctx()
    out = await node.run(ChatInputs(prompt="Where is Rome?", context=docs), ctx)
    assert ctx.trace["model_calls"][0]["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": 'Context:\n"""\n[1] Paris is the capital of France.\n\n[2] Rome is in Italy.\n'
                                    '"""\n\nQuestion: Where is Rome?'}]
    assert out.text == "[2] Rome is in Italy."


async def test_chat_without_context_sends_the_prompt_alone() -> None:
    ctx = make_ctx()
    out = await ChatCompletion(ChatParams(stream=False)).run(ChatInputs(prompt="Hello?"), ctx)
    assert ctx.trace["model_calls"][0]["messages"] == [{"role": "user", "content": "Hello?"}]
    assert out.text == NO_CONTEXT_ANSWER


async def test_chat_structured_output_fires_data() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    ctx = make_ctx()
    node = ChatCompletion(ChatParams(response_schema=schema, stream=False))
    out = await node.run(ChatInputs(prompt="What is the capital of France?", context=CONTEXT), ctx)
    assert "data" in out.model_fields_set
    assert out.data == {"answer": "Paris is the capital of France."}
    sent = ctx.trace["model_calls"][0]["params"]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "response", "schema": schema, "strict": True}}


async def test_chat_structured_output_with_a_top_level_array_schema() -> None:
    """local/extractive answered every schema without `properties` with an object, so an array schema failed."""
    schema = {"type": "array", "items": {"type": "string"}}
    node = ChatCompletion(ChatParams(response_schema=schema, stream=False))
    out = await node.run(ChatInputs(prompt="What is the capital of France?", context=CONTEXT), make_ctx())
    assert out.data == ["Paris is the capital of France."]


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "objekt"}, "'objekt' is not valid under any of the given schemas (at `type`)"),
    ({"type": "object", "required": "answer"}, "'answer' is not of type 'array' (at `required`)"),
    ({"properties": {"n": {"type": "integer", "minimum": "5"}}},
     "'5' is not of type 'number' (at `properties/n/minimum`)"),
])
def test_an_invalid_response_schema_is_refused_at_validation_not_after_the_model_call(schema, problem):
    with pytest.raises(ValidationError) as err:
        ChatParams(response_schema=schema)
    assert err.value.errors()[0]["msg"] == f"Value error, not a valid JSON Schema: {problem}"


async def test_an_empty_response_schema_means_plain_text() -> None:
    """The param says "(empty: plain text)"; `{}` used to send no response_format, then demand JSON back."""
    node = ChatCompletion(ChatParams(response_schema={}, stream=False))
    out = await node.run(ChatInputs(prompt="What is the capital of France?", context=CONTEXT), make_ctx())
    assert out.text == "Paris is the capital of France."
    assert "data" not in out.model_fields_set


async def test_chat_structured_reply_that_is_not_json_is_retryable(reply_with: Any) -> None:
    reply_with("Sure! The answer is 42.")
    node = ChatCompletion(ChatParams(model="openai/gpt-4o-mini", response_schema={"type": "object"}, stream=False))
    with pytest.raises(RetryableError, match="was asked for JSON matching the response schema but replied with "
                                             "text that is not JSON"):
        await node.run(ChatInputs(prompt="hi"), make_ctx())


async def test_chat_passes_params_to_litellm(reply_with: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", "http://127.0.0.1:1/v1")
    calls = reply_with("ok")
    params = ChatParams(model="openai/gpt-4o-mini", temperature=0.7, max_tokens=33, timeout_s=12, stream=False,
                        api_base="http://127.0.0.1:1/v1")
    await ChatCompletion(params).run(ChatInputs(prompt="hi"), make_ctx())
    (kwargs,) = calls
    assert (kwargs["model"], kwargs["temperature"], kwargs["max_tokens"], kwargs["timeout"]) == (
        "openai/gpt-4o-mini", 0.7, 33, 12)
    assert kwargs["api_base"] == "http://127.0.0.1:1/v1"
    assert kwargs["num_retries"] == 0 and kwargs["max_retries"] == 0


def test_chat_model_param_renders_as_a_model_picker() -> None:
    schema = ChatCompletion.info.to_dict()["params_schema"]
    assert schema["properties"]["model"]["x-widget"] == "model-picker"
    assert schema["properties"]["model"]["default"] == "local/extractive"
    outputs = [p["name"] for p in ChatCompletion.info.to_dict()["outputs"]]
    assert outputs == ["text", "usage", "data"]


def test_render_context_accepts_text_documents_and_dicts() -> None:
    assert render_context(None) == "" and render_context("  text  ") == "text"
    assert render_context([{"id": "1", "text": "a"}, Document(id="2", text=" "), Document(id="3", text="c")]) == (
        "[1] a\n\n[3] c")


# --- text.rewrite ------------------------------------------------------------------------------------

async def test_rewrite_without_history_falls_back_to_the_original_with_the_local_model() -> None:
    ctx = make_ctx()
    out = await QueryRewrite(RewriteParams()).run(RewriteInputs(query="What is the capital of France?"), ctx)
    assert out.text == "What is the capital of France?"
    assert ctx.trace["rewrite"]["fallback_to_original"] is True
    assert ctx.trace["rewrite"]["reason"] == ("the model found no context to rewrite from (offline extractive "
                                              "stand-in)")
    assert ctx.trace["model_calls"][0]["messages"][0] == {"role": "system", "content": DEFAULT_REWRITE_INSTRUCTION}


async def test_rewrite_with_history_expands_the_query_with_the_local_model() -> None:
    ctx = make_ctx()
    history = ["Tell me about the Eiffel Tower.", "The Eiffel Tower is a landmark in Paris.", "I like cheese."]
    out = await QueryRewrite(RewriteParams()).run(RewriteInputs(query="When was it finished?", history=history), ctx)
    assert out.text.startswith("When was it finished? ")
    assert "Eiffel Tower" in out.text and "cheese" not in out.text
    assert ctx.trace["rewrite"]["method"] == "extractive_expansion"
    assert ctx.trace["rewrite"]["fallback_to_original"] is False


async def test_rewrite_cleans_a_real_models_reply(reply_with: Any) -> None:
    reply_with('Search query: "Eiffel Tower completion year"')
    ctx = make_ctx()
    out = await QueryRewrite(RewriteParams(model="openai/gpt-4o-mini")).run(
        RewriteInputs(query="When was it finished?", history="We talked about the Eiffel Tower."), ctx)
    assert out.text == "Eiffel Tower completion year"
    assert out.usage.calls == 1
    assert ctx.trace["rewrite"] == {"original": "When was it finished?",
                                    "model_reply": 'Search query: "Eiffel Tower completion year"',
                                    "fallback_to_original": False, "text": "Eiffel Tower completion year"}


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "the model returned an empty reply"),
    ("Rewrite the user's question as a standalone search query.", "the model echoed the instruction instead "
                                                                 "of rewriting"),
])
async def test_rewrite_falls_back_on_unusable_replies(reply_with: Any, reply: str, reason: str) -> None:
    reply_with(reply)
    ctx = make_ctx()
    out = await QueryRewrite(RewriteParams(model="openai/gpt-4o-mini")).run(RewriteInputs(query="why?"), ctx)
    assert out.text == "why?"
    assert ctx.trace["rewrite"]["fallback_to_original"] is True and ctx.trace["rewrite"]["reason"] == reason


async def test_rewrite_of_an_empty_query_calls_no_model() -> None:
    ctx = make_ctx()
    out = await QueryRewrite(RewriteParams()).run(RewriteInputs(query="  "), ctx)
    assert out.text == "  " and out.usage.calls == 0 and "model_calls" not in ctx.trace


# --- llm.router --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("routes", "extra", "message"), [
    ([{"name": "a"}, {"name": "a"}], {}, "route name `a` is used twice"),
    ([{"name": "error"}, {"name": "b"}], {}, "route name `error` is reserved for error branches"),
    ([{"name": "route"}, {"name": "b"}], {}, "route name `route` is the router's own `route` output"),
    ([{"name": "two words"}, {"name": "b"}], {}, "route name `two words` is not a valid name"),
    ([{"name": "only"}], {}, "List should have at least 2 items"),
    ([{"name": "a"}, {"name": "b"}], {"default_route": "c"}, "default_route `c` is not one of the routes: a, b"),
])
def test_router_params_are_checked(routes: list[dict], extra: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RouterParams(routes=routes, **extra)


def test_router_has_one_port_per_route_plus_route() -> None:
    _, outputs = LLMRouter.ports(RouterParams(routes=ROUTES))
    assert list(outputs.model_fields) == ["billing", "technical", "route"]
    assert outputs.model_fields["billing"].annotation is str and not outputs.model_fields["billing"].is_required()


async def test_local_router_routes_by_embeddings_and_skips_the_other_branch() -> None:
    spec = make_spec({"q": ("io.input", {}), "router": ("llm.router", {"routes": ROUTES}),
                      "pay": ("demo.echo", {"prefix": "pay:"}), "fix": ("demo.echo", {"prefix": "fix:"})},
                     [("q", "value", "router", "text"), ("router", "billing", "pay", "value"),
                      ("router", "technical", "fix", "value")])
    events = await collect(spec, {"q": "I was charged twice on my last invoice"})
    (done,) = [e for e in events if isinstance(e, NodeFinished) and e.node_id == "router"]
    assert done.outputs == {"billing": "I was charged twice on my last invoice", "route": "billing"}
    decision = done.trace["route"]
    assert decision["method"] == "embedding_similarity" and decision["route"] == "billing"
    assert decision["scores"]["billing"] > decision["scores"]["technical"]
    assert "model_calls" not in done.trace
    assert [e.node_id for e in events if isinstance(e, NodeSkipped)] == ["fix"]
    assert any(isinstance(e, NodeFinished) and e.node_id == "pay" for e in events)


async def test_local_router_picks_the_other_route_too() -> None:
    ctx = make_ctx()
    out = await LLMRouter(RouterParams(routes=ROUTES)).run(RouterInputs(text="The app crashes when I log in"), ctx)
    assert out.model_fields_set == {"technical", "route"} and out.route == "technical"


async def test_model_router_uses_structured_output_and_a_forgiving_parse(reply_with: Any) -> None:
    calls = reply_with('{"route": "Billing"}')
    ctx = make_ctx()
    node = LLMRouter(RouterParams(routes=ROUTES, model="openai/gpt-4o-mini"))
    out = await node.run(RouterInputs(text="refund please"), ctx)
    assert out.route == "billing" and out.billing == "refund please"
    schema = calls[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["route"]["enum"] == ["billing", "technical"]
    assert "- billing: Invoices, payments, refunds and charges on the bill" in calls[0]["messages"][0]["content"]
    assert ctx.trace["route"] == {"route": "billing", "method": "model", "model_reply": '{"route": "Billing"}'}


async def test_model_router_unclear_reply_takes_the_default_route(reply_with: Any) -> None:
    reply_with("I am not sure.")
    ctx = make_ctx()
    node = LLMRouter(RouterParams(routes=ROUTES, model="openai/gpt-4o-mini", default_route="technical"))
    out = await node.run(RouterInputs(text="hmm"), ctx)
    assert out.route == "technical" and ctx.trace["route"]["method"] == "default"


async def test_model_router_unclear_reply_without_default_is_retryable(reply_with: Any) -> None:
    reply_with("I am not sure.")
    node = LLMRouter(RouterParams(routes=ROUTES, model="openai/gpt-4o-mini"))
    with pytest.raises(RetryableError) as info:
        await node.run(RouterInputs(text="hmm"), make_ctx())
    assert str(info.value) == ("Model `openai/gpt-4o-mini` replied 'I am not sure.', which names none of the routes "
                               "(billing, technical). Set `default_route` to take a route when the reply is unclear.")


@pytest.mark.parametrize(("reply", "expected"), [
    ('{"route": "billing"}', "billing"),
    ("technical", "technical"),
    ('"Technical".', "technical"),
    ("The route is billing.", "billing"),
    ("billing or technical", None),
    ("billing_extra", None),
    ('{"route": 3}', None),
])
def test_parse_route(reply: str, expected: str | None) -> None:
    assert parse_route(reply, ["billing", "technical"]) == expected


@pytest.mark.parametrize(("text", "route"), [("When was the Eiffel Tower built?", "question"),
                                             ("Hi there, how are you today?", "chitchat")])
async def test_default_routes_separate_questions_from_small_talk_offline(text: str, route: str) -> None:
    out = await LLMRouter(RouterParams()).run(RouterInputs(text=text), make_ctx())
    assert out.route == route
