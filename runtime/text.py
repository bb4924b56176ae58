"""Cutting text and values down to size for messages and previews: one set of helpers for every module.

`shorten` cuts a string, `short_repr` a value's repr (without building a huge one first), `bounded` a
JSON-like value (long strings, long lists and objects, deep nesting), marking every cut.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any

__all__ = ["shorten", "short_repr", "bounded"]

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 4, 4, 60, 60


def shorten(text: str, limit: int, marker: str = "...") -> str:
    """`text` if it fits in `limit` characters, else its start and `marker`, `limit` characters in all."""
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


def short_repr(value: Any, limit: int = 60) -> str:
    """`repr` cut to `limit` characters without building the whole text (a YAML alias bomb is huge)."""
    return shorten(_REPR.repr(value), limit)


def bounded(value: Any, *, limit: int, items: int, keys: int | None = None, depth: int = 12) -> tuple[Any, bool]:
    """A JSON-ready copy with strings over `limit` characters, lists over `items` items and objects over
    `keys` keys (default `items`) cut, marked `… (N chars)` / `… N more`, and whether anything was cut."""
    max_keys = items if keys is None else keys
    cut = False

    def walk(v: Any, level: int) -> Any:
        nonlocal cut
        if isinstance(v, str):
            if len(v) > limit:
                cut = True
                return v[:limit] + f"… ({len(v)} chars)"
            return v
        if isinstance(v, bool | int | float) or v is None:
            return v
        if level >= depth:
            cut = True
            return "…"
        if isinstance(v, Mapping):
            names = list(v)
            out = {str(k): walk(v[k], level + 1) for k in names[:max_keys]}
            if len(names) > max_keys:
                cut = True
                out["…"] = f"{len(names) - max_keys} more keys"
            return out
        if isinstance(v, list | tuple):
            rest = [f"… {len(v) - items} more"] if len(v) > items else []
            cut = cut or bool(rest)
            return [walk(x, level + 1) for x in v[:items]] + rest
        return str(v)

    return walk(value, 0), cut
