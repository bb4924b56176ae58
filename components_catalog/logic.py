"""Logic components: `logic.condition` (if/elif/else routing, no model) and `logic.merge` (join branches)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, create_model, field_validator, model_validator

from components_catalog.safe_regex import compile_pattern, pattern_problem, search
from runtime import Component, RunContext, component
from runtime.component import RESERVED_PORTS
from runtime.errors import PermanentError
from runtime.text import shorten

__all__ = ["Branch", "ConditionParams", "LogicCondition", "MergeParams", "LogicMerge", "port_name_problem",
           "MAX_PATTERN_CHARS", "MAX_MATCH_CHARS"]

MAX_PATTERN_CHARS = 500
MAX_MATCH_CHARS = 100_000  # regex and `contains` look at this much of a text, at most
Operator = Literal["equals", "not_equals", "contains", "not_contains", "regex", "gt", "gte", "lt", "lte",
                   "is_empty", "is_not_empty"]
_NUMERIC = ("gt", "gte", "lt", "lte")
_MISSING: Any = object()


def port_name_problem(name: str) -> str | None:
    """Why `name` cannot be a port created from params (e.g. "is reserved for error branches"), else None."""
    if not name.isidentifier():
        return "is not a valid name: use letters, digits and _, not starting with a digit"
    if name in RESERVED_PORTS:
        return f"is reserved for error branches; rename it (e.g. `{name}_`)"
    if name.startswith("_") or hasattr(BaseModel, name):
        return "clashes with a built-in name; rename it"
    return None


class Branch(BaseModel):
    name: str = Field(description="Output port that fires when this condition holds")
    operator: Operator = Field(description="How the value is compared")
    value: Any = Field(None, description="What to compare with (a number for gt/gte/lt/lte, a pattern for regex)")
    field: str | None = Field(None, description="Dotted path into a dict or object input, e.g. `score` or "
                                                "`metadata.lang` (empty: the input itself)")
    case_sensitive: bool = Field(True, description="Compare text case-sensitively")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        problem = port_name_problem(name)
        if problem:
            raise ValueError(f"branch name `{name}` {problem}")
        return name

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Branch:
        if self.operator in _NUMERIC and not _is_number(self.value):
            raise ValueError(f"branch `{self.name}`: operator `{self.operator}` needs a number in `value`, "
                             f"got {self.value!r}")
        if self.operator == "regex":
            if not isinstance(self.value, str) or len(self.value) > MAX_PATTERN_CHARS:
                got = f"{len(self.value)} characters" if isinstance(self.value, str) else _short(self.value)
                raise ValueError(f"branch `{self.name}`: operator `regex` needs a pattern of at most "
                                 f"{MAX_PATTERN_CHARS} characters in `value`, got {got}")
            problem = pattern_problem(self.value)
            if problem is not None:
                raise ValueError(f"branch `{self.name}`: the regex {self.value!r} does not compile: {problem}")
        if self.operator in ("contains", "not_contains") and self.value is None:
            raise ValueError(f"branch `{self.name}`: operator `{self.operator}` needs a `value` to look for")
        return self

    def describe(self) -> str:
        subject = f"`{self.field}`" if self.field else "the value"
        if self.operator in ("is_empty", "is_not_empty"):
            return f"{subject} {self.operator.replace('_', ' ')}"
        return f"{subject} {self.operator} {self.value!r}"


class ConditionParams(BaseModel):
    branches: list[Branch] = Field(default_factory=list, description="Conditions tried in order; the first that "
                                                                      "holds fires its port (if / elif ...)")
    else_branch: str = Field("else", validate_default=True, description="Port that fires when no branch holds")

    @field_validator("branches")
    @classmethod
    def _unique(cls, branches: list[Branch]) -> list[Branch]:
        seen: set[str] = set()
        for branch in branches:
            if branch.name in seen:
                raise ValueError(f"branch name `{branch.name}` is used twice; every branch needs its own port name")
            seen.add(branch.name)
        return branches

    @field_validator("else_branch")
    @classmethod
    def _else_name(cls, name: str, info: ValidationInfo) -> str:
        problem = port_name_problem(name)
        if problem:
            raise ValueError(f"else_branch `{name}` {problem}")
        if any(b.name == name for b in info.data.get("branches", [])):
            raise ValueError(f"`{name}` is both a branch name and the else_branch; rename one of them")
        return name


class ConditionInputs(BaseModel):
    value: Any = Field(description="The value to test; passed on through the port that fires, unless a payload "
                                   "is connected")
    payload: Any = Field(default=None, description="Optional: what to route instead of the tested value (e.g. "
                                                   "route an answer by its score)")


@component(id="logic.condition", version=1, title="Condition", category="Logic")
class LogicCondition(Component):
    """Route by rules (if / elif / else): exactly one output port fires, carrying the value (or the payload)."""

    params: ConditionParams
    cacheable = True

    def __init__(self, params: BaseModel):
        super().__init__(params)
        assert isinstance(params, ConditionParams)
        self._patterns = {b.name: compile_pattern(b.value, ignore_case=not b.case_sensitive)
                          for b in params.branches if b.operator == "regex"}

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, ConditionParams)
        fields: dict[str, Any] = {b.name: (Any, Field(None, description=f"Fires when {b.describe()}"))
                                  for b in params.branches}
        fields[params.else_branch] = (Any, Field(None, description="Fires when no branch holds"))
        return ConditionInputs, create_model("ConditionOutputs", **fields)

    async def run(self, inputs: ConditionInputs, ctx: RunContext) -> BaseModel:
        _, outputs = self.ports(self.params)
        routed = inputs.payload if "payload" in inputs.model_fields_set else inputs.value
        checked = []
        for branch in self.params.branches:
            subject = _lookup(inputs.value, branch.field)
            holds = self._holds(branch, subject)
            checked.append({"branch": branch.name, "condition": branch.describe(),
                            "subject": "(missing)" if subject is _MISSING else _short(subject), "holds": holds})
            if holds:
                ctx.record("condition", {"fired": branch.name, "reason": f"{branch.describe()} holds",
                                         "checked": checked})
                return outputs(**{branch.name: routed})
        reason = "no branch holds" if checked else "no branches are configured"
        ctx.record("condition", {"fired": self.params.else_branch, "reason": reason, "checked": checked})
        return outputs(**{self.params.else_branch: routed})

    def _holds(self, branch: Branch, subject: Any) -> bool:
        op = branch.operator
        if op in ("is_empty", "is_not_empty"):
            return _is_empty(subject) == (op == "is_empty")
        if op in ("not_equals", "not_contains"):
            return not self._compare(branch, op[4:], subject)
        return self._compare(branch, op, subject)

    def _compare(self, branch: Branch, op: str, subject: Any) -> bool:
        if subject is _MISSING:
            return False
        if op == "equals":
            return _equals(subject, branch.value, branch.case_sensitive)
        if op == "contains":
            return _contains(subject, branch.value, branch.case_sensitive)
        if op == "regex":
            text = subject if isinstance(subject, str) else str(subject)
            found = search(self._patterns[branch.name], text[:MAX_MATCH_CHARS], where=f"branch `{branch.name}`")
            return found is not None
        number = _as_number(subject)
        if number is None:
            return False
        limit = float(branch.value)
        return {"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[op]


def _lookup(value: Any, path: str | None) -> Any:
    """Follow a dotted path through dicts, public model attributes and list indexes; `_MISSING` if absent."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else _MISSING
        elif isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
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
    if _is_number(a) != _is_number(b) and isinstance(a, str | int | float) and isinstance(b, str | int | float):
        x, y = _as_number(a), _as_number(b)  # "5" equals 5
        return x is not None and x == y
    return _fold(a, case_sensitive) == _fold(b, case_sensitive)


def _contains(subject: Any, needle: Any, case_sensitive: bool) -> bool:
    if isinstance(subject, str):
        return _fold(str(needle), case_sensitive) in _fold(subject[:MAX_MATCH_CHARS], case_sensitive)
    if isinstance(subject, dict):
        return any(_equals(key, needle, case_sensitive) for key in subject)
    if isinstance(subject, list | tuple | set | frozenset):
        return any(_equals(item, needle, case_sensitive) for item in subject)
    return False


def _is_empty(value: Any) -> bool:
    if value is _MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set | frozenset) and not value


def _short(value: Any, limit: int = 80) -> str:
    return shorten(repr(value), limit)


class MergeParams(BaseModel):
    mode: Literal["first", "all"] = Field("first", description="first: the first value that arrived, in edge "
                                                               "order; all: every value, as a list")


class MergeInputs(BaseModel):
    values: list[Any] = Field(description="Connect several branches here; only the branches that fired "
                                          "contribute, in the order of their edges")


class MergeOutputs(BaseModel):
    value: Any = Field(default=None, description="mode first: the value of the first connected branch that fired "
                                         "(edge order, deterministic)")
    values: list[Any] = Field(  # pyright: ignore[reportAssignmentType] - None = not fired
        default=None, description="mode all: the values of every branch that fired, in edge order")


@component(id="logic.merge", version=1, title="Merge", category="Logic")
class LogicMerge(Component):
    """Join branches back into one wire (e.g. after a condition): the first value, or all of them."""

    params: MergeParams
    cacheable = True

    async def run(self, inputs: MergeInputs, ctx: RunContext) -> MergeOutputs:
        values = list(inputs.values)
        ctx.record("merge", {"mode": self.params.mode, "received": len(values)})
        if self.params.mode == "all":
            return MergeOutputs(values=values)
        if not values:
            raise PermanentError(f"Node `{ctx.node_id}` (`logic.merge`, mode first) received no values. Connect "
                                 "the branches to `values`, or use mode `all` to accept an empty list.")
        return MergeOutputs(value=values[0])
