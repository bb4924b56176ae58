"""A validated spec compiled into flat index-based tables the executor walks without lookups.

Compile once, run many times (serving reuses a plan across requests).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from .builtins import InputParams, check_input_value
from .component import Component
from .gc_pause import gc_paused
from .issues import InputProblem, InvalidInputs, InvalidSpec
from .registry import Registry
from .spec import DEFAULT_POLICY, EdgeSpec, NodePolicy, PipelineSpec
from .trusted import trusted_constructor
from .types import accepts_whole, list_item_type
from .validation import ERROR_PORT, ResolvedNode, analyse

__all__ = ["Plan", "PlanNode", "PlanInput", "Preset", "OutEdge", "InPort", "EdgeMode", "compile_plan"]


class EdgeMode(IntEnum):
    """How one edge feeds its input port."""

    WHOLE = 0  # the value is the port's value
    ITEM = 1  # the value is one item of a fan-in list
    EXTEND = 2  # the value is a list whose items join the fan-in list


class PlanInput(NamedTuple):
    """A pipeline input: the `io.input` node that receives it and that node's params."""

    index: int
    params: InputParams


class Preset(NamedTuple):
    """Outputs given for a node instead of running it: from an earlier run, or pinned."""

    outputs: dict[str, Any]
    source: Literal["reused", "pinned"]


@dataclass(slots=True)
class OutEdge:
    port: str
    target: int
    target_port: str
    slot: int  # position among the edges into a fan-in list port; -1 for a single-value port
    source_label: str


@dataclass(slots=True)
class InPort:
    """A connected input port: its edges' modes in spec order and the type to check `Any` sources against."""

    name: str
    modes: list[EdgeMode]
    required: bool
    fan_in: bool
    checks: list[Any]  # per slot: target type to check at run time (source typed `Any`), or None


@dataclass(slots=True)
class PlanNode:
    index: int
    id: str
    component_id: str
    version: int
    component: Component
    params: BaseModel
    inputs_model: type[BaseModel]
    outputs_model: type[BaseModel]
    policy: NodePolicy
    cacheable: bool
    build_inputs: Callable[[dict[str, Any]], BaseModel]  # the inputs model from checked values, unvalidated
    n_in: int = 0
    in_ports: list[InPort] = field(default_factory=list)
    out: list[OutEdge] = field(default_factory=list)
    error_edges: bool = False


@dataclass(slots=True)
class Plan:
    spec: PipelineSpec
    nodes: list[PlanNode]
    by_id: dict[str, int]
    inputs: dict[str, PlanInput]  # by input name
    output_ids: list[str]
    warnings: list[Any] = field(default_factory=list)

    def presets(self, reuse: Mapping[str, dict[str, Any]] | None,
                pinned: Mapping[str, dict[str, Any]] | None) -> dict[int, Preset]:
        """Presets by node index; raises KeyError naming an unknown node."""
        presets: dict[int, Preset] = {}
        given: Mapping[str, dict[str, Any]] | None
        for source, given in (("reused", reuse), ("pinned", pinned)):
            for node_id, outputs in (given or {}).items():
                if node_id not in self.by_id:
                    raise KeyError(f"cannot preset outputs of `{node_id}`: the pipeline has no such node")
                presets[self.by_id[node_id]] = Preset(dict(outputs), source)  # type: ignore[arg-type]
        return presets

    def resolve_inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check run inputs against the `io.input` nodes; raise `InvalidInputs` listing every problem."""
        problems, values = [], {}
        for name, (_, params) in self.inputs.items():
            if name in given:
                try:
                    values[name] = check_input_value(params.type, given[name])
                except ValueError as exc:
                    problems.append(InputProblem.invalid(name, params.type, given[name], str(exc)))
            elif "default" in params.model_fields_set:
                values[name] = params.default
            else:
                problems.append(InputProblem.missing(name))
        problems += [InputProblem.unknown(name, list(self.inputs)) for name in sorted(set(given) - set(self.inputs))]
        if problems:
            raise InvalidInputs(problems)
        return values


@gc_paused
def compile_plan(spec: PipelineSpec, registry: Registry) -> Plan:
    """Validate `spec` and compile it; raise `InvalidSpec` when it has errors."""
    analysis = analyse(spec, registry)
    if not analysis.ok:
        raise InvalidSpec(analysis.issues)
    by_id = {node_id: i for i, node_id in enumerate(analysis.nodes)}
    nodes = [_plan_node(i, r) for i, r in enumerate(analysis.nodes.values())]
    _wire(nodes, by_id, analysis.nodes, analysis.edges)
    inputs = {}
    for node_id, resolved in analysis.nodes.items():
        if resolved.info.id == "io.input":
            params = resolved.params
            assert isinstance(params, InputParams)
            inputs[params.name or node_id] = PlanInput(by_id[node_id], params)
    outputs = [nid for nid, r in analysis.nodes.items() if r.info.id == "io.output"]
    warnings = [i for i in analysis.issues if i.severity == "warning"]
    return Plan(spec, nodes, by_id, inputs, outputs, warnings)


def _plan_node(index: int, resolved: ResolvedNode) -> PlanNode:
    info, policy = resolved.info, resolved.spec.policy or DEFAULT_POLICY
    cacheable = policy.cache if policy.cache is not None else info.cacheable
    return PlanNode(index=index, id=resolved.spec.id, component_id=info.id, version=info.version,
                    component=info.cls(resolved.params), params=resolved.params,
                    inputs_model=resolved.inputs_model, outputs_model=resolved.outputs_model,
                    policy=policy, cacheable=cacheable, build_inputs=trusted_constructor(resolved.inputs_model))


def _wire(nodes: list[PlanNode], by_id: dict[str, int], resolved: dict[str, ResolvedNode],
          edges: list[EdgeSpec]) -> None:
    into: dict[tuple[str, str], list[EdgeSpec]] = defaultdict(list)
    for edge in edges:
        into[(edge.target.node, edge.target.port)].append(edge)
    for (target_id, port_name), port_edges in into.items():
        target = nodes[by_id[target_id]]
        port = resolved[target_id].inputs[port_name]
        item_type = list_item_type(port.type)
        single = len(port_edges) == 1
        modes = [_edge_mode(_source_type(resolved, e), port.type, item_type, single) for e in port_edges]
        fan_in = modes != [EdgeMode.WHOLE]
        checks = []
        for slot, (edge, mode) in enumerate(zip(port_edges, modes, strict=True)):
            expected = item_type if mode is EdgeMode.ITEM else port.type
            checks.append(expected if _source_type(resolved, edge) is Any and expected is not Any else None)
            source = nodes[by_id[edge.source.node]]
            source.out.append(OutEdge(edge.source.port, target.index, port_name, slot if fan_in else -1,
                                      str(edge.source)))
            source.error_edges = source.error_edges or edge.source.port == ERROR_PORT
            target.n_in += 1
        target.in_ports.append(InPort(port_name, modes, port.required, fan_in, checks))


def _edge_mode(source: Any, target: Any, item_type: Any, single: bool) -> EdgeMode:
    """How one edge feeds a port. Into `list[T]`: a source assignable to `T` adds one item; a list of
    such items adds all its items (a lone list edge is passed as it is, by reference)."""
    if item_type is None:
        return EdgeMode.WHOLE
    if source is Any:  # unknown until run time: a lone edge is the list itself, several are items
        return EdgeMode.WHOLE if single else EdgeMode.ITEM
    if accepts_whole(source, item_type):
        return EdgeMode.ITEM
    return EdgeMode.WHOLE if single and accepts_whole(source, target) else EdgeMode.EXTEND


def _source_type(resolved: dict[str, ResolvedNode], edge: EdgeSpec) -> Any:
    return resolved[edge.source.node].outputs[edge.source.port].type
