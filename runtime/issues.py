"""Problems found in a spec, its inputs or its plugins, reported all at once."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["Issue", "Severity", "InvalidSpec", "InvalidInputs", "format_issues"]

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


class InvalidInputs(ValueError):
    """The run's inputs do not match the pipeline's `io.input` nodes."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))
