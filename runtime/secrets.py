"""The one secrets rule: which env vars hold secret values, which ones components may read, and redaction.

Two notions, kept apart on purpose:
- **secret names**: env vars whose VALUES are secret (`SECRET_NAME_PATTERNS`, plus every name components
  may read). Their values (at least `MIN_SECRET_LENGTH` long: "1" or "true" would corrupt all text) are
  replaced by `***` in everything that leaves a node (outputs, chunks, logs, traces, errors, records,
  responses) and by `${secret:NAME}` in exports.
- **allowed names**: env vars components may read through `ctx.secret` / `${secret:NAME}` / `api_key_env`:
  `PATCHWIRE_SECRETS` (comma-separated globs), default `*_API_KEY`.

The environment is scanned once per change (the cache is keyed on the environ's items), so redacting costs
nothing when no secret is set: `env_redactor()` is then None.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticCustomError

__all__ = ["SECRET_NAME_PATTERNS", "DEFAULT_ALLOWED_PATTERNS", "MIN_SECRET_LENGTH", "MASK", "CREDENTIAL_HEADERS",
           "Redactor", "allowed_secret_patterns", "is_allowed_secret_name", "allowed_name_problem",
           "is_secret_name", "secret_env_values", "env_redactor", "redactor_for", "redact_text",
           "credential_header_problem", "literal_credentials", "LiteralCredentialError", "check_allowed_name",
           "LITERAL_SECRET_ERROR", "literal_secret_error"]

# Env vars whose values are secret whether or not components may read them (matched case-insensitively).
SECRET_NAME_PATTERNS = ("*_API_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_PASSWD", "*_ACCESS_KEY*",
                        "*_PRIVATE_KEY", "DATABASE_URL")
NOT_SECRET_NAMES = frozenset({"PATCHWIRE_SECRETS"})  # the allow-list itself: globs, not a secret
DEFAULT_ALLOWED_PATTERNS = ("*_API_KEY",)
MIN_SECRET_LENGTH = 8
MASK = "***"
# Request headers that carry credentials: their values in a spec must be `${secret:NAME}` references.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token",
                                "x-access-token"})
SECRET_REF = re.compile(r"\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}")
_AUTH_SCHEMES = re.compile(r"^\s*(bearer|basic|token|digest)\b", re.IGNORECASE)
_NAME_RULE = re.compile("|".join(fnmatch.translate(p) for p in SECRET_NAME_PATTERNS), re.IGNORECASE)


def allowed_secret_patterns() -> tuple[str, ...]:
    """Env-var names (glob patterns) components may read: `PATCHWIRE_SECRETS`, comma-separated."""
    configured = os.environ.get("PATCHWIRE_SECRETS")
    if configured is None:
        return DEFAULT_ALLOWED_PATTERNS
    return tuple(p.strip() for p in configured.split(",") if p.strip())


def is_allowed_secret_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in allowed_secret_patterns())


def allowed_name_problem(name: str) -> str | None:
    """Why components may not read env var `name` (None when they may), with how to allow it."""
    if is_allowed_secret_name(name):
        return None
    patterns = allowed_secret_patterns()
    return (f"`{name}` is not an env var components may read. Allowed: {', '.join(patterns) or 'none'} "
            f"(PATCHWIRE_SECRETS). Use a name that matches, or add `{name}` to PATCHWIRE_SECRETS "
            "(comma-separated globs) where the pipeline runs")


def check_allowed_name(name: str | None) -> str | None:
    """A params validator for env-var names such as `api_key_env`: refuse names components may not read."""
    problem = allowed_name_problem(name) if name else None
    if problem:
        raise ValueError(problem)
    return name


def is_secret_name(name: str) -> bool:
    """Whether env var `name` holds a secret value (the names rule, or a name components may read)."""
    if name in NOT_SECRET_NAMES:
        return False
    return bool(_NAME_RULE.match(name)) or is_allowed_secret_name(name)


class Redactor:
    """Replaces a fixed set of secret values by `***` in text and inside nested data, never in place."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[str]):
        self.values = tuple(sorted(set(values), key=len, reverse=True))  # longest first: no partial overlap

    def text(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def value(self, obj: Any) -> Any:
        """`obj` with secrets masked: new containers/models only where something changed; others as they are."""
        if obj.__class__ is str:  # the common case first: this runs on every output of every node
            return self.text(obj)
        if obj.__class__ in (dict, list, tuple) and not obj:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return self._mapping(obj)
        if isinstance(obj, list | tuple):
            items = [self.value(item) for item in obj]
            if all(new is old for new, old in zip(items, obj, strict=True)):
                return obj
            return items if isinstance(obj, list) else tuple(items)
        if isinstance(obj, BaseModel):
            return self._model(obj)
        return obj

    def _mapping(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        changed = False
        out = {}
        for key, item in obj.items():
            new_key, new_item = self.value(key), self.value(item)
            changed = changed or new_key is not key or new_item is not item
            out[new_key] = new_item
        return out if changed else obj

    def _model(self, obj: BaseModel) -> BaseModel:
        changed = {}
        for name, item in obj.__dict__.items():
            new = self.value(item)
            if new is not item:
                changed[name] = new
        if not changed:
            return obj
        copy = obj.model_copy()  # shallow; keeps `model_fields_set` (ports that fired stay the same)
        copy.__dict__.update(changed)
        return copy


_cache: tuple[Any, dict[str, str], Redactor | None] = ((), {}, None)


def _environ_key() -> Any:
    data = getattr(os.environ, "_data", None)  # the raw mapping: no decoding, ~1 µs for the whole environ
    return tuple(data.items()) if isinstance(data, dict) else tuple(os.environ.items())


def _refresh() -> tuple[Any, dict[str, str], Redactor | None]:
    global _cache
    key = _environ_key()
    if key != _cache[0]:
        found: dict[str, str] = {}
        for name, value in sorted(os.environ.items()):
            if len(value) >= MIN_SECRET_LENGTH and is_secret_name(name):
                found.setdefault(value, name)
        ordered = dict(sorted(found.items(), key=lambda item: -len(item[0])))
        _cache = (key, ordered, Redactor(ordered) if ordered else None)
    return _cache


def secret_env_values() -> dict[str, str]:
    """Secret value -> its env-var name, longest value first (a copy: callers may keep it)."""
    return dict(_refresh()[1])


def env_redactor() -> Redactor | None:
    """The redactor for the environment's secret values, or None when there are none (skip all work)."""
    return _refresh()[2]


def redactor_for(extra: Iterable[str] = ()) -> Redactor | None:
    """The environment's secret values plus `extra` (e.g. values read through `ctx.secret`)."""
    base = env_redactor()
    more = {v for v in extra if len(v) >= MIN_SECRET_LENGTH}
    if not more or (base is not None and more.issubset(base.values)):
        return base
    return Redactor((*(base.values if base else ()), *more))


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with the environment's secret values and every value in `extra` (any length) masked."""
    for value in sorted({*extra, *_refresh()[1]}, key=len, reverse=True):
        if value and value in text:
            text = text.replace(value, MASK)
    return text


# --- credentials written into specs ---------------------------------------------------------------
LITERAL_SECRET_ERROR = "literal_secret"  # a params error whose input must not be echoed back


class LiteralCredentialError(ValueError):
    """A spec holds a credential as a literal value; refuse to store it."""


def literal_secret_error(message: str) -> PydanticCustomError:
    """A validation error for a literal credential: `validate` reports it without repeating the value."""
    return PydanticCustomError(LITERAL_SECRET_ERROR, message)  # no context: `{...}` is kept as written


def credential_header_problem(name: str, value: str) -> str | None:
    """Why header `name: value` must not be saved (a literal credential), or None when it is fine."""
    if name.lower() not in CREDENTIAL_HEADERS:
        return None
    rest = _AUTH_SCHEMES.sub("", SECRET_REF.sub("", value)).strip(" :")
    if not rest:
        return None
    return (f"header `{name}` holds a literal credential, which would be saved in plain text. Reference the "
            f"secret by env-var name instead, e.g. `{name}: Bearer ${{secret:MY_API_KEY}}`")


def literal_credentials(spec: Mapping[str, Any]) -> list[str]:
    """Every literal credential header in a spec's node params (any dict named `headers`), as messages."""
    problems = []
    for node in spec.get("nodes") or []:
        if not isinstance(node, Mapping):
            continue
        params = node.get("params")
        headers = params.get("headers") if isinstance(params, Mapping) else None
        if not isinstance(headers, Mapping):
            continue
        for name, value in headers.items():
            problem = credential_header_problem(str(name), str(value))
            if problem:
                problems.append(f"Node `{node.get('id')}`: {problem}.")
    return problems
