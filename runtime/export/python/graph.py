"""What the generated module does, worked out from a compiled plan (pure: no text is produced here).

Each node becomes a `Step`: the component to call, where each input port's value comes from (in
edge order, with the fan-in mode), which connected ports are required, and its policy. `io.input`
nodes become plain values, `io.output` nodes the returned dict; both are aliases, not steps.
"""

from __future__ import annotations

import builtins
import heapq
import keyword
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ...plan import EdgeMode, Plan, PlanNode
from ...spec import DEFAULT_POLICY

__all__ = ["Source", "Wire", "Step", "Program", "build_program", "RESERVED_NAMES"]

INPUT, OUTPUT = "io.input", "io.output"
# Names the generated module defines or imports; node variables never shadow them.
RESERVED_NAMES = frozenset({
    "annotations", "argparse", "asyncio", "fnmatch", "json", "os", "sys", "uuid", "importlib", "Any",
    "RunContext", "to_jsonable_python", "INPUTS", "MISSING", "Fired", "NodeFailed", "Run", "one", "fan_in",
    "spread", "collect", "run", "inputs", "run_pipeline", "parse_inputs", "parse_value", "main",
    "load_plugin_file", "with_defaults", "env_secrets", "retry_delay", "_Spread", "SECRET_NAME_PATTERNS",
    "MIN_SECRET_LENGTH", "redact",
})


@dataclass(frozen=True, slots=True)
class Source:
    """One edge into a port: the upstream variable (a step's result or an input's value) and its port."""

    var: str
    port: str
    is_task: bool  # a step (await its task) rather than an `io.input` value
    spread: bool = False  # fan-in: the upstream list is added item by item


@dataclass(frozen=True, slots=True)
class Wire:
    port: str
    sources: list[Source]
    fan_in: bool


@dataclass(slots=True)
class Step:
    node_id: str
    var: str
    component_cls: type
    params: Any  # the validated params model instance
    raw_params: dict[str, Any]
    wires: list[Wire]
    required: list[str]
    policy: dict[str, Any]  # non-default policy as keyword arguments of `run.call`

    @property
    def upstream(self) -> list[str]:
        """Step variables this step awaits, in order of first use."""
        seen: dict[str, None] = {}
        for wire in self.wires:
            for source in wire.sources:
                if source.is_task:
                    seen.setdefault(source.var)
        return list(seen)


@dataclass(slots=True)
class Program:
    name: str
    description: str
    inputs: list[tuple[str, str, dict[str, Any]]]  # (variable, input name, {"type", "default"?, ...})
    steps: list[Step]  # in dependency order
    outputs: list[tuple[str, Source]]  # (io.output node id, where its value comes from)
    classes: list[type] = field(default_factory=list)  # component and params classes to import


def build_program(plan: Plan) -> Program:
    spec = plan.spec
    names = _variable_names([n.id for n in plan.nodes])
    into = _edges_into(plan)
    aliases: dict[tuple[str, str], Source] = {}
    inputs, steps, outputs = [], [], []
    for node in _dependency_order(plan):
        var = names[node.id]
        if node.component_id == INPUT:
            params = node.params
            entry: dict[str, Any] = {"type": params.type}  # type: ignore[attr-defined]
            if "default" in params.model_fields_set:
                entry["default"] = params.default  # type: ignore[attr-defined]
            inputs.append((var, params.name or node.id, entry))  # type: ignore[attr-defined]
            aliases[(node.id, "value")] = Source(var, "value", is_task=False)
            continue
        wires = [Wire(port.name, [_source(aliases, names, edge, mode) for edge, mode in
                                  zip(into[(node.id, port.name)], port.modes, strict=True)], port.fan_in)
                 for port in node.in_ports]
        if node.component_id == OUTPUT:
            source = wires[0].sources[0]
            aliases[(node.id, "value")] = source
            outputs.append((node.id, source))
            continue
        steps.append(Step(node.id, var, type(node.component), node.params, spec.node(node.id).params,  # type: ignore[union-attr]
                          wires, [p.name for p in node.in_ports if p.required], _policy_kwargs(node)))
    order = {node_id: i for i, node_id in enumerate(plan.output_ids)}
    outputs.sort(key=lambda item: order[item[0]])
    return Program(spec.name, spec.description, inputs, steps, outputs)


def _source(aliases: dict[tuple[str, str], Source], names: dict[str, str], edge: Any, mode: int) -> Source:
    alias = aliases.get((edge.source.node, edge.source.port))
    var, port, is_task = ((alias.var, alias.port, alias.is_task) if alias is not None
                          else (names[edge.source.node], edge.source.port, True))
    return Source(var, port, is_task, spread=mode is EdgeMode.EXTEND)


def _edges_into(plan: Plan) -> dict[tuple[str, str], list[Any]]:
    into: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for edge in plan.spec.edges:
        into[(edge.target.node, edge.target.port)].append(edge)
    return into


def _dependency_order(plan: Plan) -> list[PlanNode]:
    """Nodes in a topological order that keeps the spec's order wherever the edges allow."""
    nodes = plan.nodes
    waiting = [node.n_in for node in nodes]
    ready = [node.index for node in nodes if waiting[node.index] == 0]
    heapq.heapify(ready)
    order: list[PlanNode] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(nodes[index])
        for edge in nodes[index].out:
            waiting[edge.target] -= 1
            if waiting[edge.target] == 0:
                heapq.heappush(ready, edge.target)
    return order


def _policy_kwargs(node: PlanNode) -> dict[str, Any]:
    policy, kwargs = node.policy, {}
    if policy.timeout_s is not None:
        kwargs["timeout_s"] = policy.timeout_s
    if policy.retries:
        kwargs["retries"] = policy.retries
        if policy.retry_backoff_s != DEFAULT_POLICY.retry_backoff_s:
            kwargs["backoff_s"] = policy.retry_backoff_s
    if node.error_edges or policy.on_error == "continue":
        kwargs["handled"] = True
    return kwargs


def _variable_names(node_ids: list[str]) -> dict[str, str]:
    """A valid, unique Python name per node id (`retrieve-docs` -> `retrieve_docs`); the `_step`,
    `_task` and `_out` names derived from it are unique too."""
    taken: set[str] = set(RESERVED_NAMES)
    names = {}
    for node_id in node_ids:
        base = re.sub(r"\W", "_", node_id)
        if base[0].isdigit() or keyword.iskeyword(base) or hasattr(builtins, base):
            base = f"{base}_node"
        name, n = base, 2
        while not taken.isdisjoint(_derived(name)):
            name, n = f"{base}_{n}", n + 1
        taken.update(_derived(name))
        names[node_id] = name
    return names


def _derived(name: str) -> tuple[str, ...]:
    return (name, f"{name}_step", f"{name}_task", f"{name}_out")
