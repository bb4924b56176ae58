"""Python source for values and calls, laid out the way `ruff format` (black style) lays them out.

An expression is a plain string (an atom) or a `Group`: an opening text, items and a closing bracket.
A group is written on one line when it fits, else with its items on one indented line, else one item
per line with a trailing comma.
"""

from __future__ import annotations

import json
import keyword
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Group", "render", "literal", "call", "kwargs_call", "WIDTH", "is_identifier"]

WIDTH = 100
INDENT = "    "


@dataclass(frozen=True, slots=True)
class Group:
    open: str  # e.g. "foo(", "[", "{"
    items: tuple[Any, ...]  # str atoms or nested Groups (a dict item is a Group with open "key: ")
    close: str
    trailing_comma_when_one: bool = False  # a one-item tuple

    def flat(self) -> str:
        inner = ", ".join(flat(item) for item in self.items)
        if self.trailing_comma_when_one and len(self.items) == 1:
            inner += ","
        return f"{self.open}{inner}{self.close}"


def flat(expr: Any) -> str:
    return expr if isinstance(expr, str) else expr.flat()


def render(expr: Any, indent: int = 0, prefix_len: int = 0, suffix_len: int = 0) -> str:
    """`expr` as source starting at column `indent * 4 + prefix_len`, followed by `suffix_len` chars."""
    one_line = flat(expr)
    start = len(INDENT) * indent + prefix_len
    if isinstance(expr, str) or start + len(one_line) + suffix_len <= WIDTH:
        return one_line
    pad = INDENT * (indent + 1)
    inner = ", ".join(flat(item) for item in expr.items)
    if not expr.close:  # a "key: value" pair: only the value can break
        return expr.open + render(expr.items[0], indent, prefix_len + len(expr.open), suffix_len)
    is_call = expr.open.endswith("(") and not expr.open.startswith("from ")  # literals and imports explode
    if is_call and len(pad) + len(inner) <= WIDTH and not any(_multiline(i) for i in expr.items):
        return f"{expr.open}\n{pad}{inner}\n{INDENT * indent}{expr.close}"
    if len(expr.items) == 1 and not expr.trailing_comma_when_one:  # a sole argument hugs no comma
        return f"{expr.open}\n{pad}{render(expr.items[0], indent + 1)}\n{INDENT * indent}{expr.close}"
    lines = [f"{pad}{render(item, indent + 1, 0, 1)}," for item in expr.items]
    return expr.open + "\n" + "\n".join(lines) + "\n" + INDENT * indent + expr.close


def _multiline(item: Any) -> bool:
    return "\n" in flat(item)


def literal(value: Any) -> Any:
    """A JSON-like value as a Python expression (strings in double quotes, as ruff writes them)."""
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return Group("{", tuple(Group(f"{_string(str(k))}: ", (literal(v),), "") for k, v in value.items()), "}")
    if isinstance(value, list | tuple):
        return Group("[", tuple(literal(v) for v in value), "]")
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a Python literal")


def _string(text: str) -> str:
    if '"' in text and "'" not in text:
        return repr(text)  # single quotes: fewer escapes, as ruff prefers
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def call(func: str, *args: Any, **kwargs: Any) -> Group:
    items = [*args, *(f"{k}={flat(v)}" if isinstance(v, str) else Group(f"{k}=", (v,), "")
                      for k, v in kwargs.items())]
    return Group(f"{func}(", tuple(items), ")")


def kwargs_call(func: str, values: dict[str, Any]) -> Group:
    """`func(key=value, ...)` when every key is a plain name, else `func.model_validate({...})`."""
    if all(is_identifier(k) for k in values):
        return call(func, **{k: literal(v) for k, v in values.items()})
    return call(f"{func}.model_validate", literal(values))


def is_identifier(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
