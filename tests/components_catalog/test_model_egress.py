"""Where model and embedding calls may go, and which keys go with them (real litellm, loopback fake server).

The loopback server is a private address, so each test opens it explicitly: `PATCHWIRE_HTTP_ALLOW` lets
calls reach it without keys, `PATCHWIRE_MODEL_BASES` also trusts it with the keys of the environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from components_catalog.llm.bases import NO_KEY, check_model_base
from components_catalog.llm.chat import ChatCompletion
from components_catalog.llm.providers import load_litellm
from components_catalog.retrieval import chroma_client as cc
from components_catalog.retrieval.chroma_embedding import LiteLLMEmbeddingFunction
from components_catalog.retrieval.components import ChromaIndex, ChromaRetrieve
from components_catalog.scoring import Score
from runtime import NodeFailed, NodeFinished, PermanentError, RunContext, execute, validate
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.specs import make_spec

MODEL = "openai/gpt-4o-mini"
EMBEDDER = "openai/text-embedding-3-small"
CANARY = "sk-CANARY-521a7f0e9d"


@pytest.fixture
def srv(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The fake provider, with the operator's key in the environment and no allow-list set."""
    for name in ("PATCHWIRE_MODEL_BASES", "PATCHWIRE_HTTP_ALLOW", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    load_litellm()
    with FakeOpenAI() as server:
        yield server


def hostport(srv: FakeOpenAI) -> str:
    return urlsplit(srv.base_url).netloc


def registry() -> Any:
    reg = sample_registry()
    for cls in (ChatCompletion, Score, ChromaIndex, ChromaRetrieve):
        reg.add(cls)
    return reg


def chat_spec(**params: Any) -> Any:
    return make_spec({"q": ("io.input", {}), "chat": ("llm.chat", {"model": MODEL, **params}),
                      "out": ("io.output", {})},
                     [("q", "value", "chat", "prompt"), ("chat", "text", "out", "value")])


async def run_chat(**params: Any) -> NodeFinished | NodeFailed:
    events = [e async for e in execute(chat_spec(**params), {"q": "hi"}, registry=registry())]
    return next(e for e in events if isinstance(e, NodeFinished | NodeFailed) and e.node_id == "chat")


def make_ctx() -> RunContext:
    return RunContext(run_id="r1", node_id="embed", component_id="retrieval.chroma", attempt=1)


# --- calls: the guard and the key --------------------------------------------------------------------

@pytest.mark.parametrize("stream", [True, False])
async def test_a_custom_api_base_never_receives_the_env_key(srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
                                                             stream: bool) -> None:
    """litellm reads OPENAI_API_KEY by itself when no key is passed: a placeholder goes instead."""
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))  # reachable, but not trusted with keys
    done = await run_chat(api_base=srv.base_url, stream=stream)
    assert isinstance(done, NodeFinished) and done.outputs["text"] == "ANSWER: hi"
    assert srv.authorizations == [f"Bearer {NO_KEY}"]
    assert all(CANARY not in str(r) for r in srv.requests)


async def test_a_trusted_base_receives_the_env_key(srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", f"https://llm.corp.example, {srv.base_url}")
    done = await run_chat(api_base=srv.base_url + "/")
    assert isinstance(done, NodeFinished)
    assert srv.authorizations == [f"Bearer {CANARY}"]


@pytest.mark.parametrize("entry", ["{hostport}", "http://{hostport}", "127.0.0.0/8"])
async def test_model_bases_take_hosts_and_base_urls_covering_the_paths_below(
        srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", entry.format(hostport=hostport(srv)))
    assert isinstance(await run_chat(api_base=srv.base_url, stream=False), NodeFinished)
    assert srv.authorizations == [f"Bearer {CANARY}"]


@pytest.mark.parametrize("entry", ["http://{hostport}/v2", "https://{hostport}", "127.0.0.1:1"])
async def test_a_model_base_entry_for_another_path_scheme_or_port_does_not_trust(
        srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", entry.format(hostport=hostport(srv)))
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))
    assert isinstance(await run_chat(api_base=srv.base_url, stream=False), NodeFinished)
    assert srv.authorizations == [f"Bearer {NO_KEY}"]


async def test_a_private_api_base_is_refused_before_any_connection(srv: FakeOpenAI) -> None:
    failed = await run_chat(api_base=srv.base_url)
    assert isinstance(failed, NodeFailed) and failed.error.type == "BlockedURLError" and failed.attempts == 1
    assert failed.error.message == (
        f"Model `{MODEL}`, `api_base`: Refused to fetch {srv.base_url}: 127.0.0.1 is a loopback address. Outbound "
        "HTTP to private networks is blocked; allow it with PATCHWIRE_HTTP_ALLOW=127.0.0.1 if this is intended. "
        f"For a model server you trust with the provider's API key, PATCHWIRE_MODEL_BASES={srv.base_url} allows "
        "it too.")
    assert srv.requests == []


@pytest.mark.parametrize(("api_base", "reason"), [
    ("http://169.254.169.254/latest", "169.254.169.254 is a cloud metadata address"),
    ("http://localhost:8202/v1", "localhost resolves to"),
    ("http://10.1.2.3/v1", "10.1.2.3 is a private address"),
    ("file:///etc/passwd", "the scheme `file:` is not allowed"),
])
async def test_internal_bases_are_refused(srv: FakeOpenAI, api_base: str, reason: str) -> None:
    with pytest.raises(PermanentError, match=reason):
        await check_model_base(MODEL, api_base)


async def test_api_key_env_to_an_untrusted_base_fails_before_any_connection(
        srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))
    monkeypatch.setenv("OTHER_API_KEY", CANARY)
    failed = await run_chat(api_base=srv.base_url, api_key_env="OTHER_API_KEY")
    assert isinstance(failed, NodeFailed) and failed.error.type == "PermanentError"
    assert failed.error.message == (
        f"Model `{MODEL}`: the node's `api_key_env` names OTHER_API_KEY, but its `api_base` {srv.base_url} is not a "
        "trusted model base, and keys from the environment are only sent to the provider's default base or to a "
        f"trusted one. If you trust this server with OTHER_API_KEY, add PATCHWIRE_MODEL_BASES={srv.base_url}; "
        "otherwise clear `api_key_env` (the call is then made without a key) or clear `api_base`.")
    assert srv.requests == []


async def test_api_key_env_goes_to_a_trusted_base(srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", srv.base_url)
    monkeypatch.setenv("OTHER_API_KEY", "sk-other-7")
    assert isinstance(await run_chat(api_base=srv.base_url, api_key_env="OTHER_API_KEY"), NodeFinished)
    assert srv.authorizations == ["Bearer sk-other-7"]


async def test_the_operators_own_base_env_var_is_trusted(srv: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_API_BASE is the operator's choice: no `api_base` follows it, and an `api_base` naming it is trusted."""
    monkeypatch.setenv("OPENAI_API_BASE", srv.base_url)
    assert isinstance(await run_chat(stream=False), NodeFinished)
    assert isinstance(await run_chat(api_base=srv.base_url, stream=False), NodeFinished)
    assert srv.authorizations == [f"Bearer {CANARY}"] * 2


async def test_a_rejected_placeholder_says_the_env_key_was_withheld(srv: FakeOpenAI,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))
    srv.script([{"status": 401, "message": "Incorrect API key provided."}])
    failed = await run_chat(api_base=srv.base_url, stream=False)
    assert isinstance(failed, NodeFailed) and failed.error.type == "PermanentError"
    assert failed.error.message.endswith(
        f"Provider: Incorrect API key provided. OPENAI_API_KEY from the environment was not sent to {srv.base_url}, "
        "which is not a trusted model base; if this server should get it, add the base to PATCHWIRE_MODEL_BASES.")


async def test_ambient_cloud_credentials_never_go_to_an_untrusted_base(srv: FakeOpenAI,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))
    with pytest.raises(PermanentError, match="`bedrock` signs its calls with the cloud credentials of this machine"):
        await check_model_base("bedrock/anthropic.claude-3-haiku", srv.base_url)


# --- embeddings: the same guard ------------------------------------------------------------------------

async def test_embedding_calls_to_a_custom_base_never_receive_the_env_key(srv: FakeOpenAI,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", hostport(srv))
    vectors = await cc.embed(make_ctx(), ["alpha"], EMBEDDER, api_base=srv.base_url)
    function = LiteLLMEmbeddingFunction(EMBEDDER, srv.base_url)  # what Chroma rebuilds from a collection
    await asyncio.to_thread(function, ["beta"])
    assert len(vectors) == 1 and srv.authorizations == [f"Bearer {NO_KEY}"] * 2
    assert all(CANARY not in str(r) for r in srv.requests)


async def test_embedding_calls_to_a_private_base_are_refused(srv: FakeOpenAI) -> None:
    with pytest.raises(PermanentError, match="127.0.0.1 is a loopback address"):
        await cc.embed(make_ctx(), ["alpha"], EMBEDDER, api_base=srv.base_url)
    with pytest.raises(PermanentError, match="127.0.0.1 is a loopback address"):
        LiteLLMEmbeddingFunction(EMBEDDER, srv.base_url)(["beta"])
    assert srv.requests == []


async def test_embedding_calls_to_a_trusted_base_receive_the_key(srv: FakeOpenAI,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", srv.base_url)
    await cc.embed(make_ctx(), ["alpha"], EMBEDDER, api_base=srv.base_url)
    assert srv.authorizations == [f"Bearer {CANARY}"]


# --- validation flags a custom base --------------------------------------------------------------------

CUSTOM_BASE_MESSAGE = (
    "Node `chat` (`llm.chat` v1): custom model base http://203.0.113.7/v1: this node's model calls go there "
    "instead of the provider's default, and keys from the environment are not sent there unless allowed.")


def test_validation_warns_about_a_custom_api_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATCHWIRE_MODEL_BASES", raising=False)
    (issue,) = validate(chat_spec(api_base="http://203.0.113.7/v1"), registry())
    assert (issue.severity, issue.code, issue.node_id, issue.path) == (
        "warning", "custom_model_base", "chat", "params.api_base")
    assert issue.message == CUSTOM_BASE_MESSAGE
    assert issue.hint.startswith("Clear `api_base` to use the provider's default. If you trust this server with "
                                 "the provider's API key, add it to PATCHWIRE_MODEL_BASES")


def test_no_warning_without_api_base_or_for_a_trusted_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert validate(chat_spec(), registry()) == []
    monkeypatch.setenv("PATCHWIRE_MODEL_BASES", "203.0.113.7")
    assert validate(chat_spec(api_base="http://203.0.113.7/v1"), registry()) == []


def test_every_model_and_embedding_component_flags_its_api_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATCHWIRE_MODEL_BASES", raising=False)
    base = "https://models.example.net/v1"
    spec = make_spec({"q": ("io.input", {}),
                      "judge": ("eval.score", {"method": "judge", "model": MODEL, "api_base": base}),
                      "search": ("retrieval.chroma", {"embedding_model": EMBEDDER, "api_base": base}),
                      "offline": ("retrieval.chroma", {"api_base": base}),  # local/minilm: no call, no warning
                      "out": ("io.output", {}), "out2": ("io.output", {}), "out3": ("io.output", {})},
                     [("q", "value", "judge", "answer"), ("q", "value", "search", "query"),
                      ("q", "value", "offline", "query"), ("judge", "score", "out", "value"),
                      ("search", "context", "out2", "value"), ("offline", "context", "out3", "value")])
    flagged = [(i.node_id, i.path) for i in validate(spec, registry()) if i.code == "custom_model_base"]
    assert flagged == [("judge", "params.api_base"), ("search", "params.api_base")]
