"""Regular expressions with a time limit: a pattern that backtracks catastrophically on some input
(`^(a+)+$` against `aaaa…b`) must fail its node, not freeze the event loop. Python's `re` cannot be
interrupted, so matching goes through the `regex` package, same syntax, with a timeout."""

from __future__ import annotations

import re
from typing import Any

import regex

from runtime.errors import PermanentError

__all__ = ["MATCH_TIMEOUT_S", "compile_pattern", "pattern_problem", "search"]

MATCH_TIMEOUT_S = 1.0


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` does not compile, or None (in the words of Python's `re`, which users know)."""
    try:
        re.compile(pattern)
        regex.compile(pattern)
    except (re.error, regex.error) as exc:
        return str(exc)
    return None


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Any:
    return regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)


def search(pattern: Any, text: str, *, where: str) -> Any:
    """`pattern.search(text)`, refused with a clear error when it takes longer than MATCH_TIMEOUT_S."""
    try:
        return pattern.search(text, timeout=MATCH_TIMEOUT_S)
    except TimeoutError:
        raise PermanentError(
            f"{where}: the regex /{pattern.pattern}/ took longer than {MATCH_TIMEOUT_S:g} s on this input "
            f"({len(text)} characters), which usually means catastrophic backtracking (nested repeats such "
            "as `(a+)+`). Simplify the pattern.") from None
