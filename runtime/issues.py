"""Problems found in a spec, its inputs or its plugins, reported all at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .text import short_repr

__all__ = ["Issue", "Severity", "InvalidSpec", "InvalidInputs", "InputProblem", "format_issues"]

Severity = Literal["error", "warning"]


class Issue(BaseModel):
    """One problem: what is wrong, where, and how to fix it."""

    code: str
    message: str
    hint: str = ""
    severity: Severity = "error"
    node_id: str | None = None
    port: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        text = f"{self.severity}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


def format_issues(issues: list[Issue]) -> str:
    return "\n".join(str(issue) for issue in issues)


class InvalidSpec(Exception):
    """The spec cannot run; `issues` lists every error (and warning) found."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        errors = [i for i in issues if i.severity == "error"]
        count = f"{len(errors)} problem" + ("s" if len(errors) != 1 else "")
        super().__init__(f"The spec is invalid ({count}):\n{format_issues(errors)}")


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem with a run's inputs, as data: each front end words its own hint from it.

    `missing`: a required input was not given. `invalid`: its value does not fit (`expected` is the input's
    type, `got` the value's repr). `unknown`: no input has that name (`expected` lists the known ones).
    `message` is the text for Python callers (and `str()`).
    """

    code: Literal["missing", "invalid", "unknown"]
    input: str
    expected: str | None = None
    got: str | None = None
    message: str = ""

    def __str__(self) -> str:
        return self.message

    @classmethod
    def missing(cls, name: str) -> InputProblem:
        return cls("missing", name, message=f"Input `{name}` is required: pass it with `--input {name}=...` "
                                            "(or give the io.input node a `default`).")

    @classmethod
    def invalid(cls, name: str, expected: str, value: Any, reason: str) -> InputProblem:
        """`reason`: what the input's parser said, e.g. "expected an integer, got 'seven'"."""
        return cls("invalid", name, expected, short_repr(value), f"Input `{name}`: {reason}.")

    @classmethod
    def unknown(cls, name: str, known: Sequence[str]) -> InputProblem:
        listed = ", ".join(f"`{n}`" for n in known) or "none"
        return cls("unknown", name, expected=listed, message=_unknown_text([name], listed))


def _unknown_text(names: Sequence[str], known: str | None) -> str:
    return (f"Unknown input{'s' if len(names) > 1 else ''} {', '.join(f'`{n}`' for n in names)}; this "
            f"pipeline's inputs: {known}.")


class InvalidInputs(ValueError):
    """The run's inputs do not match the pipeline's `io.input` nodes.

    `items`: the problems as data; `problems`: their text (unknown names together in one sentence).
    """

    def __init__(self, items: Sequence[InputProblem]):
        self.items = list(items)
        self.problems = self.texts()
        super().__init__("; ".join(self.problems))

    def texts(self, missing_hint: Callable[[str], str] | None = None) -> list[str]:
        """The problems as sentences; `missing_hint(name)` words how to give a missing input in the
        caller's terms (a CLI flag, a request field, a dataset column)."""
        texts = [f"Input `{p.input}` is required: {missing_hint(p.input)}" if missing_hint and p.code == "missing"
                 else p.message for p in self.items if p.code != "unknown"]
        unknown = [p for p in self.items if p.code == "unknown"]
        if unknown:
            texts.append(_unknown_text([p.input for p in unknown], unknown[0].expected))
        return texts
