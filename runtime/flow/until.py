"""`flow.loop`'s stop test: the `logic.condition` operators, on one subflow output.

The same semantics as `logic.condition` (numbers compared as numbers, "5" equals 5, empty means None,
blank text or an empty collection; regex with a time limit), kept in the runtime because the loop is part
of the spec language and the runtime never imports the catalog.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Operator", "Until", "holds", "OPERATORS"]

Operator = Literal["equals", "not_equals", "contains", "not_contains", "regex", "gt", "gte", "lt", "lte",
                   "is_empty", "is_not_empty"]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]
_NUMERIC = ("gt", "gte", "lt", "lte")
MAX_PATTERN_CHARS = 500
MAX_MATCH_CHARS = 100_000
MATCH_TIMEOUT_S = 1.0


class Until(BaseModel):
    """Stop after the first iteration whose `output` meets `operator` `value`."""

    model_config = ConfigDict(extra="forbid")

    output: str = Field(description="The subflow output to test after each iteration")
    operator: Operator = Field(description="How it is compared (the `logic.condition` operators)")
    value: Any = Field(None, description="What to compare with (a number for gt/gte/lt/lte, a pattern for regex)")

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Until:
        if self.operator in _NUMERIC and _number(self.value) is None:
            raise ValueError(f"operator `{self.operator}` needs a number in `value`, got {self.value!r}")
        if self.operator == "regex":
            if not isinstance(self.value, str) or len(self.value) > MAX_PATTERN_CHARS:
                raise ValueError(f"operator `regex` needs a pattern of at most {MAX_PATTERN_CHARS} characters")
            import re

            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"`value` is not a valid pattern: {exc}") from None
        return self

    def describe(self) -> str:
        if self.operator in ("is_empty", "is_not_empty"):
            return f"`{self.output}` {self.operator.replace('_', ' ')}"
        return f"`{self.output}` {self.operator} {self.value!r}"


def holds(until: Until, subject: Any) -> bool:
    op = until.operator
    if op in ("is_empty", "is_not_empty"):
        return _is_empty(subject) == (op == "is_empty")
    if op in ("not_equals", "not_contains"):
        return not _compare(op[4:], subject, until.value)
    return _compare(op, subject, until.value)


def _compare(op: str, subject: Any, value: Any) -> bool:
    if op == "equals":
        return _equals(subject, value)
    if op == "contains":
        return _contains(subject, value)
    if op == "regex":
        return _search(value, subject if isinstance(subject, str) else str(subject))
    number, limit = _number(subject), _number(value)
    if number is None or limit is None:
        return False
    return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[op]


def _search(pattern: str, text: str) -> bool:
    import regex

    try:
        return regex.search(pattern, text[:MAX_MATCH_CHARS], timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        raise TimeoutError(f"`until` regex took longer than {MATCH_TIMEOUT_S:g} s on this output") from None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equals(a: Any, b: Any) -> bool:
    scalar = (str, int, float)
    if isinstance(a, scalar) and isinstance(b, scalar) and isinstance(a, str) != isinstance(b, str):
        x, y = _number(a), _number(b)  # "5" equals 5
        return x is not None and x == y
    return a == b


def _contains(subject: Any, needle: Any) -> bool:
    if isinstance(subject, str):
        return str(needle) in subject[:MAX_MATCH_CHARS]
    if isinstance(subject, dict | list | tuple | set | frozenset):
        return any(_equals(item, needle) for item in subject)
    return False


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set | frozenset) and not value
