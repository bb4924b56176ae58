"""`flow.loop`'s stop test: the `logic.condition` operators (runtime/conditions.py), on one subflow output.

The loop is part of the spec language and the runtime never imports the catalog, so the operators' rules
live in the runtime and `logic.condition` uses them too. A regex runs with a time limit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..conditions import (
    MAX_PATTERN_CHARS,
    NUMERIC_OPERATORS,
    OPERATORS,
    Operator,
    as_number,
    describe,
)
from ..conditions import holds as condition_holds

__all__ = ["Operator", "Until", "holds", "OPERATORS"]

MATCH_TIMEOUT_S = 1.0


class Until(BaseModel):
    """Stop after the first iteration whose `output` meets `operator` `value`."""

    model_config = ConfigDict(extra="forbid")

    output: str = Field(description="The subflow output to test after each iteration")
    operator: Operator = Field(description="How it is compared (the `logic.condition` operators)")
    value: Any = Field(None, description="What to compare with (a number for gt/gte/lt/lte, a pattern for regex)")

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Until:
        if self.operator in NUMERIC_OPERATORS and as_number(self.value) is None:
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
        return describe(f"`{self.output}`", self.operator, self.value)


def holds(until: Until, subject: Any) -> bool:
    return condition_holds(until.operator, subject, until.value, matches=lambda text: _search(until.value, text))


def _search(pattern: str, text: str) -> bool:
    import regex

    try:
        return regex.search(pattern, text, timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        raise TimeoutError(f"`until` regex took longer than {MATCH_TIMEOUT_S:g} s on this output") from None
