"""`validate(spec, registry)`: every problem in a spec, at once, each pinned to a node and port."""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .component import ComponentInfo, PortInfo, port_infos
from .gc_pause import gc_paused
from .issues import Issue
from .loading import yaml_boolean_hint
from .registry import Registry, default_registry
from .secrets import LITERAL_SECRET_ERROR
from .spec import EdgeSpec, NodeSpec, PipelineSpec
from .text import short_repr, shorten
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

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def validate(spec: PipelineSpec, registry: Registry | None = None) -> list[Issue]:
    """Every error and warning in `spec`, in a stable order."""
    return analyse(spec, registry).issues


@gc_paused
def analyse(spec: PipelineSpec, registry: Registry | None = None) -> Analysis:
    registry = registry if registry is not None else default_registry()
    result = Analysis()
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
        resolved = _resolve_node(node, registry, result.issues)
        if resolved is not None:
            result.nodes[node.id] = resolved
    _check_input_names(result)
    _check_edges(spec, seen, result)
    _check_required_inputs(spec, result)
    _check_cycles(spec, result)  # over the edges that resolved: safe next to other errors
    if result.ok:  # reachability warnings about a broken graph would only add noise
        _check_reachability(result)
    return result


def _resolve_node(node: NodeSpec, registry: Registry, issues: list[Issue]) -> ResolvedNode | None:
    info = registry.get(node.component, node.version)
    if info is None:
        issues.append(_unknown_component(node, registry))
        return None
    try:
        params = info.params_model.model_validate(node.params)
    except ValidationError as exc:
        issues.extend(_param_issue(node, info, error) for error in exc.errors(include_url=False))
        return None
    issues.extend(_unknown_params(node, info))
    issues.extend(_param_warnings(node, info, params))
    try:
        inputs_model, outputs_model = info.ports(params)
        inputs = {p.name: p for p in port_infos(inputs_model)}
        outputs = {p.name: p for p in port_infos(outputs_model)}
    except Exception as exc:  # noqa: BLE001 - a component's own port logic
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]  # not pydantic's URL lines
        issues.append(Issue(code="invalid_params", node_id=node.id,
                            message=f"{_who(node, info)}: its params do not give valid ports: {reason}",
                            hint="Fix the params named in the message."))
        return None
    if ERROR_PORT in inputs or ERROR_PORT in outputs:
        issues.append(Issue(code="invalid_params", node_id=node.id, port=ERROR_PORT,
                            message=f"{_who(node, info)}: its params give a port named `{ERROR_PORT}`, which is "
                                    "reserved for the error branch.",
                            hint="Rename that port in the params (for a router: the route name)."))
        return None
    outputs[ERROR_PORT] = _ERROR_PORT_INFO
    return ResolvedNode(node, info, params, inputs, outputs, inputs_model, outputs_model)


def _param_warnings(node: NodeSpec, info: ComponentInfo, params: BaseModel) -> list[Issue]:
    """The component's own warnings about valid params, pinned to the node and the param."""
    check = getattr(info.cls, "param_warnings", None)
    if check is None:
        return []
    try:
        warnings = check(params)
    except Exception as exc:  # noqa: BLE001 - a component's own check must not break validation
        return [Issue(code="param_check_failed", severity="warning", node_id=node.id, path="params",
                      message=f"{_who(node, info)}: its params check failed ({type(exc).__name__}: {exc}).",
                      hint="Report this to the component's author; the node may still run.")]
    return [Issue(code=w.code, severity="warning", node_id=node.id, path=f"params.{w.param}",
                  message=f"{_who(node, info)}: {w.message}", hint=w.hint) for w in warnings]


def _who(node: NodeSpec, info: ComponentInfo) -> str:
    return f"Node `{node.id}` (`{info.id}` v{info.version})"


def _param_issue(node: NodeSpec, info: ComponentInfo, error: Any) -> Issue:
    path = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return _unknown_param(node, info, path)
    what = f"param `{path}` is invalid" if path else "params are invalid"
    quiet = error["type"] in ("missing", LITERAL_SECRET_ERROR)  # a literal credential is not echoed back
    got = "" if quiet else f" (got {short_repr(error.get('input'))})"
    return Issue(code="invalid_params", node_id=node.id, path=f"params.{path}" if path else "params",
                 message=f"{_who(node, info)}: {what}: {_reason(error)}{got}.", hint=_param_hint(info, error))


def _reason(error: Any) -> str:
    """pydantic's message without the "Value error, " it puts before a validator's own words."""
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ") if error["type"] == "value_error" else msg


def _unknown_params(node: NodeSpec, info: ComponentInfo) -> list[Issue]:
    """Params the model would silently ignore (pydantic's default): almost always a typo."""
    model = info.params_model
    if not node.params or model.model_config.get("extra", "ignore") != "ignore":
        return []  # "forbid" is reported by pydantic; "allow" takes anything
    names = _param_names(model)
    if names is None:
        return []
    return [_unknown_param(node, info, key) for key in node.params if key not in names]


@functools.lru_cache(maxsize=1024)
def _param_names(model: type[BaseModel]) -> tuple[str, ...] | None:
    """The keys a params model reads (aliases, and names unless aliased), or None when it cannot be told."""
    config = model.model_config
    by_name = bool(config.get("validate_by_name") or config.get("populate_by_name")
                   or config.get("validate_by_alias") is False)
    names: list[str] = []
    for name, field_info in model.model_fields.items():
        alias = field_info.validation_alias if field_info.validation_alias is not None else field_info.alias
        if alias is None:
            names.append(name)
        elif isinstance(alias, str):
            names += [name, alias] if by_name else [alias]
        else:
            return None  # AliasPath / AliasChoices
    return tuple(names)


def _unknown_param(node: NodeSpec, info: ComponentInfo, key: str) -> Issue:
    names = list(_param_names(info.params_model) or info.params_model.model_fields)
    close = difflib.get_close_matches(key, names, n=1)
    guess = f" Did you mean `{close[0]}`?" if close else ""
    allowed = ", ".join(f"`{name}`" for name in names) or "none"
    return Issue(code="invalid_params", node_id=node.id, path=f"params.{key}",
                 message=f"{_who(node, info)}: unknown param `{key}`.{guess}",
                 hint=f"Remove `{key}`. `{info.id}` params: {allowed}.")


def _unknown_component(node: NodeSpec, registry: Registry) -> Issue:
    versions = registry.versions(node.component)
    if versions:
        listed = ", ".join(f"v{v}" for v in versions)
        return Issue(code="unknown_version", node_id=node.id,
                     message=f"Node `{node.id}` uses `{node.component}` v{node.version}, which is not installed. "
                             f"Installed versions: {listed}.",
                     hint=f"Set the node's version to {versions[-1]}, or install the plugin that provides "
                          f"v{node.version}.")
    family = node.component.split(".")[0]
    same_family = [cid for cid in registry.ids() if cid.split(".")[0] == family]
    close = difflib.get_close_matches(node.component, registry.ids(), n=3, cutoff=0.7)  # typos only
    if close:
        known = " Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    elif same_family:
        listed = ", ".join(f"`{c}`" for c in same_family[:8])
        more = f" and {len(same_family) - 8} more" if len(same_family) > 8 else ""
        known = f" Installed {family} components: {listed}{more}."
    else:
        known = ""
    hint = "Install the plugin that provides it (see `patchwire components`)."
    failed = [p.source for p in registry.problems]
    if failed:
        hint += (f" {len(failed)} plugin{'s' if len(failed) > 1 else ''} failed to load ("
                 + ", ".join(failed[:3]) + (", ..." if len(failed) > 3 else "") + "): see `patchwire components`.")
    name = shorten(node.component, 100)
    return Issue(code="unknown_component", node_id=node.id,
                 message=f"Unknown component `{name}` on node `{node.id}`.{known}", hint=hint)


def _param_hint(info: ComponentInfo, error: Any) -> str:
    loc = error["loc"]
    if error["type"] == "missing":
        return f"Set `{loc[-1]}`."
    if yaml_boolean_hint(error):
        return str(yaml_boolean_hint(error))
    described = info.params_model.model_fields.get(str(loc[0])) if loc else None
    if described is not None and described.description:
        return f"`{loc[0]}`: {described.description}."
    return "See the component's params in the inspector or `patchwire components --json`."


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
