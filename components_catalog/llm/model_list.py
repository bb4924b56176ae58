"""The models usable right now, for the editor's model picker.

Always `local/extractive` (the offline stand-in); for each provider whose API-key env var is set, a short
list of its chat models from litellm's bundled model list; Ollama's installed models when
`OLLAMA_API_BASE` is set (the only network call here: to the server the user named, 1 s timeout).

Env vars are checked by name (litellm's `PROVIDER_API_KEY` convention plus known exceptions). This
module never calls `litellm.validate_environment` or `get_llm_provider`: for some providers
(github_copilot, chatgpt) those start a device-login over the internet.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, Field

from components_catalog.llm.providers import load_litellm, provider_key_envs

__all__ = ["ModelOption", "ModelListing", "usable_models", "list_models", "MODELS_PER_PROVIDER"]

MODELS_PER_PROVIDER = 6
LOCAL_OPTION_LABEL = "Offline extractive stand-in — not an LLM"
# Providers that need more than a key (deployments, cloud credentials, device login), duplicates of
# another entry, or are listed separately: the picker leaves them out; they still work as model strings.
_SKIPPED = frozenset({
    "azure", "azure_text", "azure_ai", "bedrock", "bedrock_mantle", "sagemaker", "vertex_ai", "watsonx",
    "databricks", "oci", "snowflake", "github_copilot", "chatgpt", "microsoft_365_copilot", "cohere",
    "text-completion-openai", "text-completion-codestral", "text-completion-inception", "ollama",
    "ollama_chat", "local", "amazon_nova", "cloudflare"})
_FEATURED: dict[str, tuple[str, ...]] = {  # put first when litellm's list has them
    "openai": ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro"),
    "mistral": ("mistral-small-latest", "mistral-medium-latest", "mistral-large-latest")}
_NOISE = re.compile(r"preview|experimental|robotics|audio|realtime|tts|transcribe|search|image|embed|guard|computer-use|vision|moderation|"
                    r"instruct|-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}$|-\d{2}-\d{4}|^ft:|/ft:", re.IGNORECASE)


class ModelOption(BaseModel):
    name: str = Field(description="The litellm model string to put in a node's `model` param")
    provider: str = Field(description="litellm provider, e.g. `openai`")
    label: str = Field(description="What the picker shows")
    offline: bool = Field(description="Runs without the internet (on this machine or a local server)")
    note: str = Field("", description="Anything worth knowing before picking it")

    def __str__(self) -> str:  # the model string, e.g. for pickers that only take names
        return self.name


class ModelListing(BaseModel):
    options: list[ModelOption]
    notes: list[str] = Field(default_factory=list, description="Why something expected is missing")


def usable_models() -> list[ModelOption]:
    """The models a node can use right now (see `list_models` for notes on what is missing)."""
    return list_models().options


def list_models() -> ModelListing:
    litellm = load_litellm()
    options = [ModelOption(name="local/extractive", provider="local", label=LOCAL_OPTION_LABEL, offline=True,
                           note="Answers by extracting context sentences (MiniLM); deterministic, free, offline")]
    notes: list[str] = []
    for provider in sorted(str(p) for p in litellm.models_by_provider):
        if provider in _SKIPPED:
            continue
        env = next((name for name in provider_key_envs(provider) if os.environ.get(name)), None)
        if env is not None:
            options += [ModelOption(name=name, provider=provider, label=name, offline=False, note=f"key from {env}")
                        for name in _chat_models(litellm, provider)]
    base = os.environ.get("OLLAMA_API_BASE")
    if base:
        found, problem = _ollama_models(base)
        options += found
        notes += [problem] if problem else []
    return ModelListing(options=options, notes=notes)


def _chat_models(litellm: Any, provider: str) -> list[str]:
    """A short list: featured models first, then chat models without dated snapshots, newest names first."""
    ranks: dict[str, tuple[bool, bool, str]] = {}
    for raw in litellm.models_by_provider.get(provider, []):
        full = raw if raw.startswith(f"{provider}/") else f"{provider}/{raw}"
        info = litellm.model_cost.get(raw) or litellm.model_cost.get(full) or {}
        if info.get("mode") == "chat" and not _NOISE.search(full.split("/", 1)[1]):
            # models that do tools and structured output first: the general-purpose chat models
            ranks[full] = (bool(info.get("supports_response_schema")), bool(info.get("supports_function_calling")),
                           full)
    featured = [f"{provider}/{m}" for m in _FEATURED.get(provider, ()) if f"{provider}/{m}" in ranks]
    rest = sorted((n for n in ranks if n not in featured), key=ranks.__getitem__, reverse=True)
    return (featured + rest)[:MODELS_PER_PROVIDER]


def _ollama_models(base: str) -> tuple[list[ModelOption], str | None]:
    """Models installed on the Ollama server at `base` (`GET /api/tags`, 1 s timeout)."""
    import httpx

    url = base.rstrip("/") + "/api/tags"
    try:
        response = httpx.get(url, timeout=1.0)
        response.raise_for_status()
        names = [str(m["name"]) for m in response.json().get("models", []) if m.get("name")]
    except Exception as exc:  # noqa: BLE001 - any failure: list nothing, say why
        return [], f"Ollama at OLLAMA_API_BASE={base} did not answer GET /api/tags ({type(exc).__name__}: {exc})."
    options = [ModelOption(name=f"ollama_chat/{n}", provider="ollama", label=f"{n} (Ollama)", offline=True,
                           note=f"served by {base}") for n in sorted(names)]
    return options, None if options else f"The Ollama server at {base} has no models installed (`ollama pull`)."
