"""Where a model or embedding call may go, and whether the operator's API keys may go with it.

A node's `api_base` comes from the spec, so possibly from an imported file. Before any connection:
- it passes the same `net_guard` check as `action.http`: resolved, and refused when it is loopback,
  private, link-local or a cloud metadata address, unless `PATCHWIRE_HTTP_ALLOW` or
  `PATCHWIRE_MODEL_BASES` allows it;
- keys from the environment (the provider's `*_API_KEY`, which litellm reads by itself, or the node's
  `api_key_env`) go only to the provider's default base (no `api_base`) or to a trusted base: one listed
  in `PATCHWIRE_MODEL_BASES` (comma-separated base URLs, `http://10.0.0.5:8000/v1`, which also cover
  the paths below them, or hosts in the `PATCHWIRE_HTTP_ALLOW` syntax: `llm.corp.example`,
  `*.corp.example`, `10.0.0.5:8000`), or the provider's own `<PROVIDER>_API_BASE` / `<PROVIDER>_BASE_URL`
  env var. To any other base the call is made with the placeholder key `patchwire-no-key` (so litellm
  cannot fall back to the env key), and a node naming `api_key_env` fails instead.

The addresses are checked before the call, but litellm resolves the name again when it connects: a DNS
answer that changes in between (rebinding) is not caught, nor is a redirect the provider's HTTP client
follows. A base given as an IP address has no rebinding window.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from components_catalog.llm.providers import is_local_model, provider_key_envs, provider_of
from components_catalog.net_guard import BlockedURLError, allow_rule_matches, check_url, redact_url
from runtime.component import ParamWarning
from runtime.errors import PermanentError

__all__ = ["MODEL_BASES_ENV", "NO_KEY", "ModelBase", "api_base_warnings", "check_model_base",
           "check_model_base_blocking", "trusted_by"]

MODEL_BASES_ENV = "PATCHWIRE_MODEL_BASES"
NO_KEY = "patchwire-no-key"  # sent instead of the env key to a base that is not trusted with it
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Providers that sign requests with ambient cloud credentials, which an explicit api_key does not replace.
_AMBIENT_CREDENTIALS = frozenset({"bedrock", "sagemaker", "sagemaker_chat", "vertex_ai", "vertex_ai_beta"})
_BASE_ENV_PREFIX = {"ollama_chat": "OLLAMA"}


@dataclass(frozen=True, slots=True)
class ModelBase:
    """The checked base of one model call: None for the provider's default."""

    url: str | None
    trusted: bool  # may receive keys from the environment
    trusted_by: str | None = None  # the allow-list entry or env var that trusts it

    def withheld_note(self, model: str) -> str:
        """Said after an auth failure at an untrusted base: the env key was not sent, and how to send it."""
        if self.trusted or self.url is None:
            return ""
        keys = [name for name in provider_key_envs(provider_of(model) or "openai") if os.environ.get(name)]
        if not keys:
            return ""
        return (f"{' and '.join(keys)} from the environment was not sent to {redact_url(self.url)}, which is not a "
                f"trusted model base; if this server should get it, add the base to {MODEL_BASES_ENV}.")


class _Base(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str


def _parse_base(url: str) -> _Base | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".").lower()
    return _Base(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme], parts.path.rstrip("/"))


def _trusted_entries(model: str) -> list[tuple[str, str]]:
    """(entry, where it comes from): `PATCHWIRE_MODEL_BASES`, then the provider's own base env vars."""
    entries = [(e.strip(), MODEL_BASES_ENV) for e in os.environ.get(MODEL_BASES_ENV, "").split(",") if e.strip()]
    provider = provider_of(model)
    if provider:
        prefix = _BASE_ENV_PREFIX.get(provider, provider.upper().replace("-", "_"))
        for name in (f"{prefix}_API_BASE", f"{prefix}_BASE_URL"):
            if value := os.environ.get(name, "").strip():
                entries.append((value, name))
    return entries


def _covers(entry: str, base: _Base) -> bool:
    if "://" not in entry:
        return allow_rule_matches(entry, base.host, base.port)
    allowed = _parse_base(entry)
    if allowed is None or allowed[:3] != base[:3]:
        return False
    return base.path == allowed.path or base.path.startswith(allowed.path + "/")


def _guard_rule(entry: str) -> str:
    """An entry as a `net_guard` rule: a URL opens its host and port, a host entry is one already."""
    parsed = _parse_base(entry) if "://" in entry else None
    if parsed is None:
        return "" if "://" in entry else entry
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{host}:{parsed.port}"


def trusted_by(model: str, api_base: str) -> str | None:
    """The entry (or env var) that trusts `api_base` with `model`'s keys, or None."""
    base = _parse_base(api_base)
    if base is None:
        return None
    return next((f"{source}={entry}" for entry, source in _trusted_entries(model) if _covers(entry, base)), None)


async def check_model_base(model: str, api_base: str | None, api_key_env: str | None = None) -> ModelBase:
    """Check where a call to `model` goes; raise `PermanentError` (before any connection) when it must not."""
    if not api_base or is_local_model(model):
        return ModelBase(None, True)
    shown = redact_url(api_base)
    trust = trusted_by(model, api_base)
    if trust is None and api_key_env:
        raise PermanentError(
            f"Model `{model}`: the node's `api_key_env` names {api_key_env}, but its `api_base` {shown} is not a "
            f"trusted model base, and keys from the environment are only sent to the provider's default base or "
            f"to a trusted one. If you trust this server with {api_key_env}, add {MODEL_BASES_ENV}={shown}; "
            "otherwise clear `api_key_env` (the call is then made without a key) or clear `api_base`.")
    provider = provider_of(model)
    if trust is None and provider in _AMBIENT_CREDENTIALS:
        raise PermanentError(
            f"Model `{model}`: `{provider}` signs its calls with the cloud credentials of this machine, so they "
            f"are not sent to the custom `api_base` {shown} unless it is trusted. Add {MODEL_BASES_ENV}={shown} "
            "if it should get them, or clear `api_base`.")
    rules = [_guard_rule(entry) for entry, _ in _trusted_entries(model)]
    try:
        await check_url(api_base, also_allow=rules)
    except BlockedURLError as exc:
        raise BlockedURLError(f"Model `{model}`, `api_base`: {exc} For a model server you trust with the "
                              f"provider's API key, {MODEL_BASES_ENV}={shown} allows it too.") from None
    return ModelBase(api_base, trust is not None, trust)


def check_model_base_blocking(model: str, api_base: str | None, api_key_env: str | None = None) -> ModelBase:
    """`check_model_base` for sync callers (chromadb's embedding functions), on or off an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(check_model_base(model, api_base, api_key_env))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, check_model_base(model, api_base, api_key_env)).result()


def api_base_warnings(model: str, api_base: str | None) -> list[ParamWarning]:
    """The validation warning for a custom `api_base` that the operator has not trusted."""
    if not api_base or is_local_model(model) or trusted_by(model, api_base) is not None:
        return []
    return [ParamWarning(
        param="api_base", code="custom_model_base",
        message=f"custom model base {redact_url(api_base)}: this node's model calls go there instead of the "
                "provider's default, and keys from the environment are not sent there unless allowed.",
        hint=f"Clear `api_base` to use the provider's default. If you trust this server with the provider's API "
             f"key, add it to {MODEL_BASES_ENV}; private and loopback addresses also need it (or "
             "PATCHWIRE_HTTP_ALLOW, without keys).")]
