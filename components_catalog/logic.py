"""Logic components: `logic.condition` (if/elif/else routing, no model) and `logic.merge` (join branches)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, create_model, field_validator, model_validator

from components_catalog.safe_regex import compile_pattern, pattern_problem, search
from runtime import Component, RunContext, component
from runtime.component import RESERVED_PORTS
from runtime.conditions import (
    MAX_MATCH_CHARS,
    MAX_PATTERN_CHARS,
    MISSING,
    NUMERIC_OPERATORS,
    Operator,
    describe,
    holds,
    is_number,
)
from runtime.errors import PermanentError
from runtime.text import shorten

__all__ = ["Branch", "ConditionParams", "LogicCondition", "MergeParams", "LogicMerge", "port_name_problem",
           "MAX_PATTERN_CHARS", "MAX_MATCH_CHARS"]


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
        if self.operator in NUMERIC_OPERATORS and not is_number(self.value):
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
        return describe(f"`{self.field}`" if self.field else "the value", self.operator, self.value)


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
            fires = self._holds(branch, subject)
            checked.append({"branch": branch.name, "condition": branch.describe(),
                            "subject": "(missing)" if subject is MISSING else _short(subject), "holds": fires})
            if fires:
                ctx.record("condition", {"fired": branch.name, "reason": f"{branch.describe()} holds",
                                         "checked": checked})
                return outputs(**{branch.name: routed})
        reason = "no branch holds" if checked else "no branches are configured"
        ctx.record("condition", {"fired": self.params.else_branch, "reason": reason, "checked": checked})
        return outputs(**{self.params.else_branch: routed})

    def _holds(self, branch: Branch, subject: Any) -> bool:
        def matches(text: str) -> bool:
            return search(self._patterns[branch.name], text, where=f"branch `{branch.name}`") is not None

        return holds(branch.operator, subject, branch.value, matches=matches, case_sensitive=branch.case_sensitive)


def _lookup(value: Any, path: str | None) -> Any:
    """Follow a dotted path through dicts, public model attributes and list indexes; `MISSING` if absent."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else MISSING
        elif isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


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
