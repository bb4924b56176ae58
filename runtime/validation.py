"""`validate(spec, registry)`: every problem in a spec, at once, each pinned to a node and port."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .component import ComponentInfo, PortInfo, port_infos
from .flow.scope import FlowError
from .gc_pause import gc_paused
from .interface_checks import check_interface
from .issues import Issue
from .node_checks import param_issue, param_warnings, unknown_component, unknown_params, who
from .registry import Registry, default_registry
from .spec import EdgeSpec, NodeSpec, PipelineSpec
from .types import is_assignable, list_item_type, type_label

__all__ = ["validate", "analyse", "Analysis", "ResolvedNode", "ERROR_PORT", "ERROR_PORT_TYPE"]

ERROR_PORT = "error"
ERROR_PORT_TYPE = dict[str, Any]
_ERROR_PORT_INFO = PortInfo(ERROR_PORT, ERROR_PORT_TYPE, False,
                            "Fires with {node, component, type, message, attempts} when the node fails")


@dataclass(slots=True)
class ResolvedNode:
    """A node whose component, params and ports are known."""

    spec: NodeSpec
    info: ComponentInfo
    params: BaseModel
    inputs: dict[str, PortInfo]
    outputs: dict[str, PortInfo]
    inputs_model: type[BaseModel]
    outputs_model: type[BaseModel]


@dataclass(slots=True)
class Analysis:
    issues: list[Issue] = field(default_factory=list)
    nodes: dict[str, ResolvedNode] = field(default_factory=dict)
    edges: list[EdgeSpec] = field(default_factory=list)  # edges whose both ends resolved
    scope: Any = None  # the `FlowScope` of the spec's subflows, reused when compiling

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def validate(spec: PipelineSpec, registry: Registry | None = None) -> list[Issue]:
    """Every error and warning in `spec`, in a stable order."""
    return analyse(spec, registry).issues


@gc_paused
def analyse(spec: PipelineSpec, registry: Registry | None = None, *, scope: Any = None) -> Analysis:
    """`scope`: the subflows' `FlowScope` when `spec` is one of them (else made from `spec.subflows`)."""
    from .flow import FlowScope

    registry = registry if registry is not None else default_registry()
    top = scope is None
    result = Analysis(scope=FlowScope(spec.subflows, registry) if top else scope)
    if top and spec.subflows:
        result.issues.extend(result.scope.issues())
    if not spec.nodes:
        result.issues.append(Issue(code="no_nodes", message="The pipeline has no nodes.",
                                   hint="Add at least an `io.input` and an `io.output` node."))
        return result
    seen: set[str] = set()
    for node in spec.nodes:
        if node.id in seen:
            result.issues.append(Issue(
                code="duplicate_node_id", node_id=node.id,
                message=f"Node id `{node.id}` is used by more than one node.",
                hint="Give every node a unique id."))
            continue
        seen.add(node.id)
        resolved = _resolve_node(node, registry, result.issues, result.scope)
        if resolved is not None:
            result.nodes[node.id] = resolved
    _check_input_names(result)
    _check_edges(spec, seen, result)
    _check_required_inputs(spec, result)
    _check_cycles(spec, result)  # over the edges that resolved: safe next to other errors
    result.issues.extend(check_interface(spec, result.nodes))
    if result.ok:  # reachability warnings about a broken graph would only add noise
        _check_reachability(result)
    return result


def _resolve_node(node: NodeSpec, registry: Registry, issues: list[Issue], scope: Any) -> ResolvedNode | None:
    info = registry.get(node.component, node.version)
    if info is None:
        issues.append(unknown_component(node, registry))
        return None
    try:
        params = info.params_model.model_validate(node.params)
    except ValidationError as exc:
        issues.extend(param_issue(node, info, error) for error in exc.errors(include_url=False))
        return None
    issues.extend(unknown_params(node, info))
    issues.extend(param_warnings(node, info, params))
    try:
        inputs_model, outputs_model = _ports(info, params, scope)
        inputs = {p.name: p for p in port_infos(inputs_model)}
        outputs = {p.name: p for p in port_infos(outputs_model)}
    except FlowError as exc:  # a flow node whose params do not fit its subflow
        issues.append(Issue(code=exc.code, node_id=node.id, path=exc.path, message=f"{who(node, info)}: {exc}",
                            hint=exc.hint))
        return None
    except Exception as exc:  # noqa: BLE001 - a component's own port logic
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]  # not pydantic's URL lines
        issues.append(Issue(code="invalid_params", node_id=node.id,
                            message=f"{who(node, info)}: its params do not give valid ports: {reason}",
                            hint="Fix the params named in the message."))
        return None
    if ERROR_PORT in inputs or ERROR_PORT in outputs:
        issues.append(Issue(code="invalid_params", node_id=node.id, port=ERROR_PORT,
                            message=f"{who(node, info)}: its params give a port named `{ERROR_PORT}`, which is "
                                    "reserved for the error branch.",
                            hint="Rename that port in the params (for a router: the route name)."))
        return None
    outputs[ERROR_PORT] = _ERROR_PORT_INFO
    return ResolvedNode(node, info, params, inputs, outputs, inputs_model, outputs_model)


def _ports(info: ComponentInfo, params: BaseModel, scope: Any) -> tuple[type[BaseModel], type[BaseModel]]:
    """The node's port models; a flow node reads them from its subflow in the spec's scope."""
    flow_ports = getattr(info.cls, "flow_ports", None)
    return info.ports(params) if flow_ports is None else flow_ports(params, scope)


def _check_input_names(result: Analysis) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for node_id, node in result.nodes.items():
        if node.info.id == "io.input":
            by_name[getattr(node.params, "name", None) or node_id].append(node_id)
            _check_input_default(node_id, node, result)
    for name, ids in by_name.items():
        if len(ids) > 1:
            listed = ", ".join(f"`{i}`" for i in ids)
            result.issues.append(Issue(code="duplicate_input_name", node_id=ids[1],
                                       message=f"Input name `{name}` is used by nodes {listed}.",
                                       hint="Give each `io.input` its own `name`."))


def _check_input_default(node_id: str, node: ResolvedNode, result: Analysis) -> None:
    from .builtins import check_input_value

    params = node.params
    if "default" not in params.model_fields_set:
        return
    kind = getattr(params, "type", "string")
    try:
        check_input_value(kind, getattr(params, "default", None))
    except ValueError as exc:
        result.issues.append(Issue(code="invalid_params", node_id=node_id, path="params.default",
                                   message=f"Node `{node_id}` (`io.input` v1): param `default` does not fit its "
                                           f"type `{kind}`: {exc}.",
                                   hint=f"Give {'an' if kind[0] in 'aeiou' else 'a'} {kind} default, or change "
                                        "the input's `type`."))


def _check_edges(spec: PipelineSpec, node_ids: set[str], result: Analysis) -> None:
    into: dict[tuple[str, str], list[EdgeSpec]] = defaultdict(list)
    seen: set[tuple[str, str, str, str]] = set()
    for edge in spec.edges:
        key = (edge.source.node, edge.source.port, edge.target.node, edge.target.port)
        if key in seen:
            result.issues.append(Issue(code="duplicate_edge", node_id=edge.target.node, port=edge.target.port,
                                       message=f"The edge `{edge.source}` → `{edge.target}` appears twice.",
                                       hint="Delete the duplicate edge."))
            continue
        seen.add(key)
        source = _end(edge, "source", node_ids, result)
        target = _end(edge, "target", node_ids, result)
        if source is None or target is None:
            continue
        if not is_assignable(source.type, target.type):
            result.issues.append(_type_mismatch(edge, source, target, result.nodes[edge.target.node]))
            continue
        into[(edge.target.node, edge.target.port)].append(edge)
        result.edges.append(edge)
    for (node_id, port), edges in into.items():
        if len(edges) > 1 and list_item_type(result.nodes[node_id].inputs[port].type) is None:
            sources = _listing([str(e.source) for e in edges])
            result.issues.append(Issue(
                code="multiple_edges", node_id=node_id, port=port,
                message=f"Input `{node_id}.{port}` has {len(edges)} incoming edges ({sources}), but it takes "
                        f"one value ({type_label(result.nodes[node_id].inputs[port].type)}).",
                hint="Keep one edge, or join the branches first with `logic.merge`."))


def _listing(names: list[str], limit: int = 10) -> str:
    """`a`, `b`, `c`: at most `limit` names, then how many more (a 5,000-node spec stays readable)."""
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _end(edge: EdgeSpec, side: str, node_ids: set[str], result: Analysis) -> PortInfo | None:
    ref = edge.source if side == "source" else edge.target
    direction = "output" if side == "source" else "input"
    if ref.node not in node_ids:
        # Pin it to the end that exists, so the editor can show it on a node.
        other = edge.target if side == "source" else edge.source
        pinned = other if other.node in node_ids else ref
        result.issues.append(Issue(code="missing_node", node_id=pinned.node, port=pinned.port,
                                   message=f"Edge `{edge.source}` → `{edge.target}`: {side} node `{ref.node}` "
                                           "does not exist.",
                                   hint="Delete the edge or add the node."))
        return None
    node = result.nodes.get(ref.node)
    if node is None:
        return None  # the node itself already has an issue
    ports = node.outputs if side == "source" else node.inputs
    port = ports.get(ref.port)
    if port is None:
        listed = ", ".join(f"`{p.name}` ({p.type_label})" for p in ports.values()) or "none"
        result.issues.append(Issue(code="missing_port", node_id=ref.node, port=ref.port,
                                   message=f"Edge `{edge.source}` → `{edge.target}`: node `{ref.node}` "
                                           f"(`{node.info.id}`) has no {direction} port `{ref.port}`.",
                                   hint=f"{direction.capitalize()} ports of `{ref.node}`: {listed}."))
    return port


def _type_mismatch(edge: EdgeSpec, source: PortInfo, target: PortInfo, target_node: ResolvedNode) -> Issue:
    free = [p for p in target_node.inputs.values()
            if p.name != target.name and is_assignable(source.type, p.type)]
    listed = ", ".join(f"`{p.name}` ({p.type_label})" for p in free)
    hint = (f"Inputs on `{edge.target.node}` that accept {source.type_label}: {listed}." if free else
            f"Convert the value first (e.g. with `text.template`), or connect a port of type {target.type_label}.")
    return Issue(code="type_mismatch", node_id=edge.target.node, port=edge.target.port,
                 message=f"Cannot connect `{edge.source}` ({source.type_label}) to `{edge.target}` "
                         f"({target.type_label}).",
                 hint=hint)


def _check_required_inputs(spec: PipelineSpec, result: Analysis) -> None:
    # An input with a wrong edge already has an issue; "not connected" would only add noise.
    connected = {(e.target.node, e.target.port) for e in spec.edges}
    for node_id, node in result.nodes.items():
        for port in node.inputs.values():
            if port.required and (node_id, port.name) not in connected:
                result.issues.append(Issue(
                    code="required_input_unconnected", node_id=node_id, port=port.name,
                    message=f"Node `{node_id}` (`{node.info.id}` v{node.info.version}): required input "
                            f"`{port.name}` is not connected and has no default.",
                    hint=f"Connect an output of type {port.type_label} to `{node_id}.{port.name}`."))


def _acyclic(result: Analysis) -> bool:
    """Kahn's peeling over the edges that resolved: the common, cycle-free case needs no graph library."""
    indegree = dict.fromkeys(result.nodes, 0)
    successors: dict[str, list[str]] = defaultdict(list)
    for edge in result.edges:
        successors[edge.source.node].append(edge.target.node)
        indegree[edge.target.node] += 1
    ready = [node_id for node_id, degree in indegree.items() if degree == 0]
    peeled = 0
    while ready:
        peeled += 1
        for target in successors.get(ready.pop(), ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return peeled == len(indegree)


def _check_cycles(spec: PipelineSpec, result: Analysis) -> None:
    if _acyclic(result):
        return
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(result.nodes)
    graph.add_edges_from((e.source.node, e.target.node) for e in result.edges)
    for component_nodes in nx.strongly_connected_components(graph):
        first = next(iter(component_nodes))
        if len(component_nodes) == 1 and not graph.has_edge(first, first):
            continue
        cycle = [u for u, _ in nx.find_cycle(graph.subgraph(component_nodes), source=first)]
        cycle = _rotate_to_spec_order(cycle, spec)
        names = [f"`{n}`" for n in cycle]
        if len(names) > 10:  # a 5,000-node cycle stays one readable line
            names = [*names[:8], f"… ({len(names) - 9} more)", names[-1]]
        path = " → ".join([*names, names[0]])
        result.issues.append(Issue(code="cycle", node_id=cycle[0],
                                   message=f"The pipeline has a cycle: {path}.",
                                   hint="Pipelines are acyclic: remove one of the edges in the cycle."))


def _rotate_to_spec_order(cycle: list[str], spec: PipelineSpec) -> list[str]:
    order = {n.id: i for i, n in enumerate(spec.nodes)}
    start = min(range(len(cycle)), key=lambda i: order.get(cycle[i], 0))
    return cycle[start:] + cycle[:start]


def _check_reachability(result: Analysis) -> None:
    outputs = [nid for nid, n in result.nodes.items() if n.info.id == "io.output"]
    if not outputs:
        result.issues.append(Issue(code="no_outputs", severity="warning",
                                   message="The pipeline has no `io.output` node, so runs return no outputs.",
                                   hint="Add an `io.output` node and connect the result to it."))
        return
    upstream: dict[str, list[str]] = defaultdict(list)
    for edge in result.edges:
        upstream[edge.target.node].append(edge.source.node)
    reached, stack = set(outputs), list(outputs)
    while stack:
        for source in upstream[stack.pop()]:
            if source not in reached:
                reached.add(source)
                stack.append(source)
    for node_id, node in result.nodes.items():
        if node_id not in reached:
            result.issues.append(Issue(
                code="unreachable_output", severity="warning", node_id=node_id,
                message=f"Node `{node_id}` (`{node.info.id}`): its outputs reach no `io.output`, so its "
                        "results are not returned.",
                hint="Connect it towards an `io.output`, or delete it if it is not needed."))
