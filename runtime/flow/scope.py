"""What flow nodes need from the spec they sit in: its named subflows, analysed and compiled once.

Validation and compilation hand a `FlowScope` to `flow.*` components (`flow_ports`, `bind`), so a
component's ports can be the subflow's real, typed inputs and outputs. Subflows are analysed in the
top-level spec's scope (a subflow may use the others); a cycle among them is found before any is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..issues import Issue
from ..spec import PipelineSpec

if TYPE_CHECKING:
    from ..plan import Plan
    from ..registry import Registry
    from ..validation import Analysis

__all__ = ["FlowScope", "FlowError", "FLOW_IDS", "subflow_uses"]

FLOW_IDS = frozenset({"flow.subflow", "flow.map", "flow.loop"})


class FlowError(ValueError):
    """A flow node's params do not fit its subflow; validation reports it as one issue."""

    def __init__(self, code: str, message: str, hint: str, path: str = "params.subflow"):
        super().__init__(message)
        self.code, self.message, self.hint, self.path = code, message, hint, path


def subflow_uses(spec: PipelineSpec) -> list[str]:
    """The subflow names `spec`'s flow nodes run, in node order."""
    return [str(n.params["subflow"]) for n in spec.nodes
            if n.component in FLOW_IDS and isinstance(n.params.get("subflow"), str)]


@dataclass
class FlowScope:
    """The spec's subflows, each analysed and compiled at most once per scope."""

    subflows: dict[str, PipelineSpec]
    registry: Registry
    _analyses: dict[str, Analysis] = field(default_factory=dict)
    _plans: dict[str, Plan] = field(default_factory=dict)
    _cyclic: dict[str, list[str]] = field(default_factory=dict)  # subflow -> the cycle it is in

    def __post_init__(self) -> None:
        self._cyclic = _cycles(self.subflows)

    def cycle_of(self, name: str) -> list[str] | None:
        return self._cyclic.get(name)

    def analysis(self, name: str) -> Analysis:
        from ..validation import analyse

        found = self._analyses.get(name)
        if found is None:
            found = self._analyses[name] = analyse(self.subflows[name], self.registry, scope=self)
        return found

    def plan(self, name: str) -> Plan:
        from ..plan import compile_plan

        found = self._plans.get(name)
        if found is None:
            found = self._plans[name] = compile_plan(self.subflows[name], self.registry, scope=self)
        return found

    def digest(self, name: str) -> str:
        """A hash of the subflow's content and of every subflow it uses: part of a flow node's cache key."""
        import hashlib

        spec = self.subflows[name]
        text = spec.model_dump_json(exclude={"layout"})
        used = "".join(self.digest(u) for u in dict.fromkeys(subflow_uses(spec))
                       if u in self.subflows and u not in self._cyclic)
        return hashlib.sha256((text + used).encode()).hexdigest()

    def issues(self) -> list[Issue]:
        """Every problem inside the subflows (each named), and each cycle among them once."""
        issues, reported = [], set()
        for name in self.subflows:
            cycle = self._cyclic.get(name)
            if cycle is not None:
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    issues.append(_cycle_issue(cycle))
                continue
            if self.subflows[name].subflows:
                issues.append(Issue(code="nested_subflows", path=f"subflows.{name}.subflows",
                                    message=f"Subflow `{name}` has its own `subflows`; subflows live at the top "
                                            "level of the spec only.",
                                    hint="Move them into the spec's top-level `subflows` (every subflow can use "
                                         "the others)."))
            for issue in self.analysis(name).issues:
                issues.append(issue.model_copy(update={
                    "message": f"Subflow `{name}`: {issue.message}",
                    "path": f"subflows.{name}" + (f".{issue.node_id}" if issue.node_id else "")
                            + (f".{issue.path}" if issue.path else ""),
                    "node_id": None}))
        return issues


def _cycle_issue(cycle: list[str]) -> Issue:
    path = " → ".join(f"`{n}`" for n in [*cycle, cycle[0]])
    return Issue(code="subflow_cycle", path=f"subflows.{cycle[0]}",
                 message=f"Subflows use each other in a cycle: {path}.",
                 hint="A subflow cannot run itself, directly or through others: for repetition use `flow.loop`.")


def _cycles(subflows: dict[str, PipelineSpec]) -> dict[str, list[str]]:
    """Each subflow on a cycle of uses, mapped to that cycle (starting at its first name in spec order)."""
    uses = {name: [u for u in subflow_uses(spec) if u in subflows] for name, spec in subflows.items()}
    cyclic: dict[str, list[str]] = {}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for used in uses[name]:
            if state.get(used) == 1:
                cycle = stack[stack.index(used):]
                for member in cycle:
                    cyclic.setdefault(member, cycle)
            elif used not in state:
                visit(used)
        stack.pop()
        state[name] = 2

    for name in subflows:
        if name not in state:
            visit(name)
    return cyclic
