"""Suite checks against the compiled pipeline and the dataset: every problem at once, before anything runs.

Each problem is an `Issue` with what is wrong, where (assertion, node, port, column) and how to fix it, the
same shape `patchwire validate` prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..issues import Issue
from ..text import shorten
from .probes import PROBE_TYPES, Probe
from .suite import NEEDS_EXPECTED, NEEDS_NODE, Suite

__all__ = ["check_suite", "resolve_ports", "output_ports", "PORTLESS"]

PORTLESS = {"fired", "skipped", "status", "branch", "latency_ms_lte", "cost_lte", "tokens_lte", "component"}
MOCKS_COLUMN = "mocks"


def _names(items: Iterable[str]) -> str:
    listed = [f"`{i}`" for i in items]
    return ", ".join(listed[:30]) + (", ..." if len(listed) > 30 else "") if listed else "none"


def output_ports(plan: Any, node_id: str) -> list[str]:
    return list(plan.nodes[plan.by_id[node_id]].outputs_model.model_fields)


def resolve_ports(suite: Suite, plan: Any) -> None:
    """An assertion on a value without `port:` looks at the node's first output port."""
    for a in suite.assertions:
        if a.port is None and a.node in plan.by_id and a.type not in PORTLESS:
            ports = output_ports(plan, a.node)
            a.port = ports[0] if ports else None


def check_suite(suite: Suite, plan: Any, columns: set[str], registry: Any) -> tuple[list[Issue], dict[str, Probe]]:
    """Every problem of `suite` for this pipeline and dataset, and the compiled probes of the rest."""
    issues: list[Issue] = []
    issues += _check_inputs(suite, plan, columns)
    issues += _check_mocks(suite, plan)
    seen: set[str] = set()
    probes: dict[str, Probe] = {}
    for a in suite.assertions:
        where = f"assertion `{a.name}`"
        if a.name in seen:
            issues.append(Issue(code="duplicate_assertion", message=f"Two assertions are named `{a.name}`.",
                                hint="Give each assertion its own `name`: the report and the gate use it."))
        seen.add(a.name)
        issues += _check_target(a, where, plan)
        issues += _check_expected(a, where, columns)
        if a.type in PROBE_TYPES and not issues_for(issues, where):
            probe, problem = _compile_probe(a, where, plan, columns, registry)
            if problem:
                issues.append(problem)
            elif probe is not None:
                probes[a.name] = probe
    unknown = sorted(set(suite.gate.min_pass_rate) - seen)
    for name in unknown:
        issues.append(Issue(code="gate_unknown_assertion", path=f"gate.min_pass_rate.{name}",
                            message=f"`gate.min_pass_rate` names `{name}`, which is not an assertion.",
                            hint=f"Assertions: {_names(a.name for a in suite.assertions)}."))
    return issues, probes


def issues_for(issues: list[Issue], where: str) -> bool:
    return any(where in i.message for i in issues)


def _check_inputs(suite: Suite, plan: Any, columns: set[str]) -> list[Issue]:
    issues = []
    for name, column in suite.inputs.items():
        if name not in plan.inputs:
            issues.append(Issue(code="unknown_input", path=f"inputs.{name}",
                                message=f"`inputs` maps column `{column}` to `{name}`, which is not an input of "
                                        f"pipeline `{plan.spec.name}`.",
                                hint=f"The pipeline's inputs: {_names(plan.inputs)}."))
        if column not in columns:
            issues.append(Issue(code="unknown_column", path=f"inputs.{name}",
                                message=f"`inputs.{name}` reads column `{column}`, which the dataset does not have.",
                                hint=f"The dataset's columns: {_names(sorted(columns))}."))
    given = {name for name in plan.inputs if name in columns} | set(suite.inputs)
    for name, (_, params) in plan.inputs.items():
        if name not in given and "default" not in params.model_fields_set:
            issues.append(Issue(code="missing_input", path="inputs",
                                message=f"Pipeline input `{name}` is required, but no dataset column gives it.",
                                hint=f"Add `inputs: {{{name}: COLUMN}}`; the dataset's columns: "
                                     f"{_names(sorted(columns))}."))
    return issues


def _check_mocks(suite: Suite, plan: Any) -> list[Issue]:
    issues = []
    for node_id, outputs in suite.mocks.items():
        if node_id not in plan.by_id:
            issues.append(Issue(code="unknown_node", path=f"mocks.{node_id}", node_id=node_id,
                                message=f"`mocks` sets outputs of `{node_id}`, which is not a node of the pipeline.",
                                hint=f"Nodes: {_names(plan.by_id)}."))
            continue
        ports = output_ports(plan, node_id)
        for port in sorted(set(outputs) - set(ports)):
            issues.append(Issue(code="unknown_port", path=f"mocks.{node_id}.{port}", node_id=node_id, port=port,
                                message=f"`mocks.{node_id}` sets port `{port}`, which `{node_id}` does not have.",
                                hint=f"Its output ports: {_names(ports)}."))
    return issues


def _check_target(a: Any, where: str, plan: Any) -> list[Issue]:
    if a.node is None:
        if a.type in NEEDS_NODE:
            return [Issue(code="missing_node", message=f"{where} (`{a.type}`) needs `node:`, the node it looks at.",
                          hint=f"Nodes: {_names(plan.by_id)}.")]
        return []
    if a.node not in plan.by_id:
        return [Issue(code="unknown_node", node_id=a.node, message=f"{where}: pipeline `{plan.spec.name}` has no "
                      f"node `{a.node}`.", hint=f"Nodes: {_names(plan.by_id)}.")]
    ports = output_ports(plan, a.node)
    if a.port is not None and a.port not in ports:
        return [Issue(code="unknown_port", node_id=a.node, port=a.port,
                      message=f"{where}: node `{a.node}` has no output port `{a.port}`.",
                      hint=f"Its output ports: {_names(ports)}.")]
    if a.type == "branch" and a.value is not None and a.value not in ports:
        return [Issue(code="unknown_branch", node_id=a.node, message=f"{where}: `{a.node}` has no branch "
                      f"`{a.value}`.", hint=f"Its output ports: {_names(ports)}.")]
    return []


def _check_expected(a: Any, where: str, columns: set[str]) -> list[Issue]:
    issues = []
    if a.column is not None and a.column not in columns:
        issues.append(Issue(code="unknown_column", path=f"assertions.{a.name}.column",
                            message=f"{where} reads column `{a.column}`, which the dataset does not have.",
                            hint=f"The dataset's columns: {_names(sorted(columns))}."))
    needs = a.type in NEEDS_EXPECTED and a.type not in ("llm_rubric", "component", "similar")
    if needs and a.value is None and a.column is None:
        issues.append(Issue(code="missing_expected", message=f"{where} (`{a.type}`) has neither `value` nor `column`.",
                            hint="Give the expected value with `value:`, or name the dataset column holding it "
                                 "with `column:`."))
    if a.type == "similar" and a.value is None and a.column is None:
        issues.append(Issue(code="missing_expected", message=f"{where} (`similar`) has no reference text.",
                            hint="Give it with `value:` or name the column holding it with `column:`."))
    if a.type == "llm_rubric" and not (a.rubric or a.column or a.value):
        issues.append(Issue(code="missing_rubric", message=f"{where} (`llm_rubric`) has no rubric.",
                            hint="Say what a good answer does with `rubric:` (or a `column:` holding it)."))
    if a.type == "json_path" and not a.path:
        issues.append(Issue(code="missing_path", message=f"{where} (`json_path`) has no `path`.",
                            hint="e.g. `path: items.0.name`."))
    if a.type == "length_between" and a.min is None and a.max is None:
        issues.append(Issue(code="missing_bounds", message=f"{where} (`length_between`) has neither `min` nor `max`.",
                            hint="e.g. `min: 20, max: 2000`."))
    if a.type == "regex" and a.value is not None:
        try:
            re.compile(str(a.value))
        except re.error as exc:
            issues.append(Issue(code="bad_regex", message=f"{where}: the regex {a.value!r} does not compile: {exc}.",
                                hint="Fix the pattern (Python `re` syntax)."))
    if a.type == "component" and a.value is None and a.column is None and a.threshold is None:
        issues.append(Issue(code="missing_expected", message=f"{where} (`component`) has no `value` to compare with.",
                            hint="The assertion passes when the component's output is ≥ `value`."))
    return issues


def _compile_probe(a: Any, where: str, plan: Any, columns: set[str], registry: Any) -> tuple[Probe | None, Issue | None]:
    from ..issues import InvalidSpec

    if a.type == "component":
        problem = _check_component(a, where, plan, columns, registry)
        if problem is not None:
            return None, problem
    try:
        return Probe(a, registry), None
    except InvalidSpec as exc:
        first = next((i for i in exc.issues if i.severity == "error"), exc.issues[0])
        return None, Issue(code="bad_assertion_component", message=f"{where}: {first.message}",
                           hint=first.hint or "Check the assertion's `component`, `params` and `inputs`.")


def _check_component(a: Any, where: str, plan: Any, columns: set[str], registry: Any) -> Issue | None:
    if not a.component:
        return Issue(code="missing_component", message=f"{where} (`component`) does not name a component.",
                     hint="e.g. `component: eval.score` (`patchwire components` lists them).")
    info = registry.get(a.component)
    if info is None:
        evaluation = [i.id for i in registry if i.category == "Evaluation"]
        return Issue(code="unknown_component", message=f"{where}: no component `{a.component}` is installed.",
                     hint=f"Evaluation components: {_names(evaluation)} (a plugin adds more: --plugin).")
    params = info.params_model.model_validate(a.params) if _valid(info, a.params) else None
    if params is None:
        return Issue(code="bad_params", message=f"{where}: params {shorten(repr(a.params), 120)} are not valid for "
                     f"`{a.component}`.", hint="Check them against `patchwire components --json`.")
    _, outputs = info.ports(params)
    field = outputs.model_fields.get(a.output)
    if field is None or field.annotation not in (int, float, int | None, float | None):
        numeric = [n for n, f in outputs.model_fields.items() if f.annotation in (int, float)]
        return Issue(code="not_numeric", message=f"{where}: `{a.component}` has no numeric output port `{a.output}`.",
                     hint=f"Its numeric output ports: {_names(numeric)} (set `output:`).")
    for port, source in a.inputs.items():
        if source.startswith("column:"):
            if source.removeprefix("column:") not in columns:
                return Issue(code="unknown_column", message=f"{where}: input `{port}` reads column "
                             f"`{source.removeprefix('column:')}`, which the dataset does not have.",
                             hint=f"The dataset's columns: {_names(sorted(columns))}.")
            continue
        node, _, node_port = source.partition(".")
        if node not in plan.by_id or (node_port and node_port not in output_ports(plan, node)):
            return Issue(code="unknown_port", message=f"{where}: input `{port}` reads `{source}`, which is not an "
                         "output port of the pipeline.", hint="Write `NODE.PORT` or `column:NAME`.")
    return None


def _valid(info: Any, params: dict[str, Any]) -> bool:
    from pydantic import ValidationError

    try:
        info.params_model.model_validate(params)
    except ValidationError:
        return False
    return True
