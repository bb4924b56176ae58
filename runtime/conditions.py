"""The condition operators shared by `logic.condition` (components_catalog/logic.py) and `flow.loop`'s
`until` (runtime/flow/until.py): one set of rules, so a loop stops on exactly what a condition routes on.

- `equals`: numbers compare as numbers, and a number equals its text ("5" equals 5, a bool is no number);
  text folds case when `case_sensitive` is off.
- `contains`: a substring of text, a key of a dict, an item of a list, tuple or set.
- `regex`: the caller's time-limited `matches(text)` on the first `MAX_MATCH_CHARS` of the text.
- `gt`/`gte`/`lt`/`lte`: numbers, or text that reads as one; anything else does not hold.
- `is_empty`: None, blank text, an empty collection, or a missing field (`MISSING`).
- `not_equals`, `not_contains`: the negations.
A `MISSING` subject (a field path that does not exist) satisfies only `is_empty` and the negations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

__all__ = ["Operator", "OPERATORS", "NUMERIC_OPERATORS", "MISSING", "MAX_PATTERN_CHARS", "MAX_MATCH_CHARS",
           "holds", "describe", "as_number", "is_number", "is_empty"]

Operator = Literal["equals", "not_equals", "contains", "not_contains", "regex", "gt", "gte", "lt", "lte",
                   "is_empty", "is_not_empty"]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]
NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte")
MAX_PATTERN_CHARS = 500
MAX_MATCH_CHARS = 100_000  # regex and `contains` look at this much of a text, at most
MISSING: Any = object()


def holds(operator: str, subject: Any, value: Any, *, matches: Callable[[str], bool],
          case_sensitive: bool = True) -> bool:
    """Whether `subject` `operator` `value` holds; `matches(text)` runs the regex (with the caller's limits)."""
    if operator in ("is_empty", "is_not_empty"):
        return is_empty(subject) == (operator == "is_empty")
    if operator in ("not_equals", "not_contains"):
        return not _compare(operator[4:], subject, value, matches, case_sensitive)
    return _compare(operator, subject, value, matches, case_sensitive)


def _compare(op: str, subject: Any, value: Any, matches: Callable[[str], bool], case_sensitive: bool) -> bool:
    if subject is MISSING:
        return False
    if op == "equals":
        return _equals(subject, value, case_sensitive)
    if op == "contains":
        return _contains(subject, value, case_sensitive)
    if op == "regex":
        text = subject if isinstance(subject, str) else str(subject)
        return matches(text[:MAX_MATCH_CHARS])
    number, limit = as_number(subject), as_number(value)
    if number is None or limit is None:
        return False
    return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[op]


def describe(subject: str, operator: str, value: Any) -> str:
    """`subject is empty`, `subject gt 0.5`: a condition in words, for port tooltips and run details."""
    if operator in ("is_empty", "is_not_empty"):
        return f"{subject} {operator.replace('_', ' ')}"
    return f"{subject} {operator} {value!r}"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_number(value: Any) -> float | None:
    """A number, or text that reads as one, as a float; else None (a bool is not a number)."""
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _fold(value: Any, case_sensitive: bool) -> Any:
    return value.casefold() if isinstance(value, str) and not case_sensitive else value


def _equals(a: Any, b: Any, case_sensitive: bool) -> bool:
    if is_number(a) != is_number(b) and isinstance(a, str | int | float) and isinstance(b, str | int | float):
        x, y = as_number(a), as_number(b)  # "5" equals 5
        return x is not None and x == y
    return _fold(a, case_sensitive) == _fold(b, case_sensitive)


def _contains(subject: Any, needle: Any, case_sensitive: bool) -> bool:
    if isinstance(subject, str):
        return _fold(str(needle), case_sensitive) in _fold(subject[:MAX_MATCH_CHARS], case_sensitive)
    if isinstance(subject, dict | list | tuple | set | frozenset):  # a dict: its keys
        return any(_equals(item, needle, case_sensitive) for item in subject)
    return False


def is_empty(value: Any) -> bool:
    if value is MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set | frozenset) and not value
