"""`usable_models()`: what the model picker offers, from env vars, litellm's list and a local Ollama."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from components_catalog.llm.model_list import MODELS_PER_PROVIDER, list_models, usable_models
from components_catalog.llm.providers import load_litellm, provider_key_envs, provider_of


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider keys and no Ollama, whatever the machine has."""
    for name in list(os.environ):
        if name.endswith("_API_KEY") or name in ("OLLAMA_API_BASE", "HF_TOKEN"):
            monkeypatch.delenv(name)


def test_without_keys_only_the_offline_stand_in_is_listed() -> None:
    (option,) = usable_models()
    assert option.name == "local/extractive" and option.provider == "local" and option.offline is True
    assert option.label == "Offline extractive stand-in — not an LLM"
    assert str(option) == "local/extractive"  # what name-only pickers show and store


def test_a_provider_key_lists_that_providers_chat_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    options = usable_models()
    openai = [o for o in options if o.provider == "openai"]
    assert {o.provider for o in options} == {"local", "openai"}
    assert [o.name for o in openai[:2]] == ["openai/gpt-4o-mini", "openai/gpt-4o"]
    assert 2 <= len(openai) <= MODELS_PER_PROVIDER
    litellm = load_litellm()
    for option in openai:
        assert option.offline is False and option.note == "key from OPENAI_API_KEY"
        assert litellm.model_cost[option.name.split("/", 1)[1]]["mode"] == "chat"
    assert "sk-test" not in repr(options)


def test_keys_are_checked_by_litellm_naming(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "g-key")
    assert {o.provider for o in usable_models()} == {"local", "gemini"}
    assert provider_key_envs("gemini") == ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
    assert provider_key_envs("together_ai") == ["TOGETHERAI_API_KEY", "TOGETHER_AI_API_KEY"]
    assert provider_key_envs("groq") == ["GROQ_API_KEY"]


def test_provider_of_reads_prefixes_and_litellms_price_list() -> None:
    load_litellm()
    assert provider_of("openai/gpt-4o") == "openai"
    assert provider_of("gpt-4o-mini") == "openai"
    assert provider_of("no-such-model") == ""


def test_listing_is_fast_after_litellm_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    load_litellm()
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY"):
        monkeypatch.setenv(name, "k")
    started = time.perf_counter()
    options = usable_models()
    assert time.perf_counter() - started < 1.0
    assert {"openai", "anthropic", "mistral", "groq"} <= {o.provider for o in options}


class _Tags(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"models": [{"name": "llama3.2:latest"}, {"name": "qwen3:4b"}]}).encode()
        self.send_response(200 if self.path == "/api/tags" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def ollama() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tags)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_ollama_models_are_listed_when_its_base_is_set(monkeypatch: pytest.MonkeyPatch, ollama: str) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", ollama)
    listing = list_models()
    local = [o for o in listing.options if o.provider == "ollama"]
    assert [o.name for o in local] == ["ollama_chat/llama3.2:latest", "ollama_chat/qwen3:4b"]
    assert all(o.offline and o.note == f"served by {ollama}" for o in local)
    assert listing.notes == []


def test_an_unreachable_ollama_lists_nothing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", "http://127.0.0.1:9")
    listing = list_models()
    assert [o.name for o in listing.options] == ["local/extractive"]
    (note,) = listing.notes
    assert note.startswith("Ollama at OLLAMA_API_BASE=http://127.0.0.1:9 did not answer GET /api/tags (ConnectError")


def test_importing_the_model_modules_imports_no_heavy_library() -> None:
    code = ("import sys, components_catalog.llm.model_list, components_catalog.llm.chat, components_catalog.llm.router, "
            "components_catalog.llm.rewrite, components_catalog.scoring, components_catalog.llm.calls; "
            "print(sorted(m for m in ('litellm', 'numpy', 'httpx', 'onnxruntime', 'chromadb') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
