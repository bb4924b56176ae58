"""Pure edits of a pipeline spec: everything the canvas does to a graph, testable without a browser.

Every function takes a `PipelineSpec` and returns a new one; nothing is mutated in place. Edits that
cannot be made raise `EditError` with a message meant for the user (shown as a toast).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from runtime import EdgeSpec, NodePolicy, NodeSpec, PipelineSpec, PortInfo, PortRef, Registry, is_assignable
from runtime.component import port_infos
from runtime.flow import FLOW_IDS, FlowScope
from runtime.spec import NODE_ID_PATTERN, Position, StickyNote
from runtime.types import list_item_type
from runtime.validation import ERROR_PORT, ERROR_PORT_TYPE

__all__ = ["EditError", "NodePorts", "edge_id", "spec_to_dict", "new_spec", "new_node_id", "node_ports", "flow_scope",
           "add_node", "connect", "delete", "move", "set_param", "set_policy", "set_label", "set_name", "rename_node",
           "copy_nodes", "paste", "duplicate", "positions", "GRID_X", "GRID_Y"]

GRID_X, GRID_Y = 300.0, 170.0  # spacing of the fallback layout for specs saved without positions
_ERROR_PORT = PortInfo(ERROR_PORT, ERROR_PORT_TYPE, False,
                       "Fires with {node, component, type, message, attempts} when the node fails")


class EditError(ValueError):
    """An edit that cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class NodePorts:
    inputs: dict[str, PortInfo]
    outputs: dict[str, PortInfo]


def edge_id(edge: EdgeSpec) -> str:
    """A stable id for an edge (a spec never holds the same wire twice)."""
    return f"{edge.source.node}.{edge.source.port}->{edge.target.node}.{edge.target.port}"


def spec_to_dict(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as JSON data, without empty optional fields (what export and the database hold)."""
    data = spec.model_dump(mode="json")
    for node in data["nodes"]:
        for key in ("policy", "label"):
            if node.get(key) is None:
                node.pop(key, None)
    if not data.get("description"):
        data.pop("description", None)
    return data


def new_spec(name: str = "Untitled pipeline") -> PipelineSpec:
    return PipelineSpec(name=name)


def new_node_id(taken: Iterable[str], component_id: str) -> str:
    """`llm.chat` -> `chat`, then `chat_2`, `chat_3`, ... whichever is free."""
    base = re.sub(r"[^A-Za-z0-9_\-]", "_", component_id.rsplit(".", 1)[-1])[:56] or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = f"n_{base}"
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while f"{base}_{n}" in used:
        n += 1
    return f"{base}_{n}"


def flow_scope(spec: PipelineSpec, registry: Registry) -> FlowScope:
    """What flow nodes (`flow.subflow`/`map`/`loop`) read their ports from: the spec's subflows."""
    return FlowScope(spec.subflows, registry)


def node_ports(node: NodeSpec, registry: Registry, scope: FlowScope | None = None) -> NodePorts | None:
    """The node's ports for its params (plus the reserved `error` output), or None for unknown components.

    Params that do not validate fall back field by field to their defaults, so one bad field being
    typed does not make the node's handles (and wires) disappear. A flow node's ports are its subflow's,
    read in `scope` (see `flow_scope`); without one, or with a subflow that does not fit, its static ports.
    """
    info = registry.get(node.component, node.version)
    if info is None:
        return None
    params = _lenient_params(info.params_model, node.params)
    flow_ports = getattr(info.cls, "flow_ports", None)
    try:
        if params is None:
            ins, outs = info.inputs_model, info.outputs_model
        elif flow_ports is not None:
            ins, outs = flow_ports(params, scope)
        else:
            ins, outs = info.ports(params)
    except Exception:  # noqa: BLE001 - a component's own port logic (or a FlowError); validation reports it
        ins, outs = info.inputs_model, info.outputs_model
    outputs = {p.name: p for p in port_infos(outs)}
    outputs[ERROR_PORT] = _ERROR_PORT
    return NodePorts({p.name: p for p in port_infos(ins)}, outputs)


def _lenient_params(model: type[BaseModel], params: Mapping[str, Any]) -> BaseModel | None:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    try:
        return model.model_validate({k: v for k, v in params.items() if k not in bad})
    except ValidationError:
        return None


def add_node(spec: PipelineSpec, registry: Registry, component_id: str, x: float, y: float,
             version: int | None = None) -> tuple[PipelineSpec, str]:
    info = registry.get(component_id, version)
    if info is None:
        raise EditError(f"Unknown component `{component_id}`: it is not installed, so it cannot be added.")
    node_id = new_node_id((n.id for n in spec.nodes), info.id)
    node = NodeSpec(id=node_id, component=info.id, version=info.version, params={})
    layout = {**spec.layout, node_id: Position(x=round(x, 1), y=round(y, 1))}
    return spec.model_copy(update={"nodes": [*spec.nodes, node], "layout": layout}), node_id


def connect(spec: PipelineSpec, registry: Registry, source: str, source_port: str, target: str,
            target_port: str) -> PipelineSpec:
    """Add the wire `source.source_port -> target.target_port` after checking it like the runtime does.

    A single-value input keeps one wire: connecting it again replaces the old wire.
    """
    s_node, t_node = _node(spec, source), _node(spec, target)
    if source == target:
        raise EditError(f"Cannot connect `{source}` to itself: pipelines are acyclic.")
    scope = flow_scope(spec, registry) if {s_node.component, t_node.component} & FLOW_IDS else None
    s_ports, t_ports = node_ports(s_node, registry, scope), node_ports(t_node, registry, scope)
    if s_ports is None or t_ports is None:
        missing = s_node if s_ports is None else t_node
        raise EditError(f"Node `{missing.id}` uses `{missing.component}`, which is not installed; "
                        "its ports are unknown.")
    out = s_ports.outputs.get(source_port)
    if out is None:
        raise EditError(f"Node `{source}` has no output port `{source_port}`. "
                        f"Its outputs: {_listing(s_ports.outputs.values())}.")
    inp = t_ports.inputs.get(target_port)
    if inp is None:
        raise EditError(f"Node `{target}` has no input port `{target_port}`. "
                        f"Its inputs: {_listing(t_ports.inputs.values())}.")
    if not is_assignable(out.type, inp.type):
        raise EditError(_mismatch(source, out, target, inp, t_ports))
    if _reaches(spec, target, source):
        raise EditError(f"Connecting `{source}.{source_port}` to `{target}.{target_port}` would make a cycle "
                        f"(`{target}` already feeds `{source}`); pipelines are acyclic.")
    edge = EdgeSpec(source=PortRef(node=source, port=source_port), target=PortRef(node=target, port=target_port))
    if any(edge_id(e) == edge_id(edge) for e in spec.edges):
        return spec
    edges = list(spec.edges)
    if list_item_type(inp.type) is None:  # one value: the new wire replaces the old one
        edges = [e for e in edges if not (e.target.node == target and e.target.port == target_port)]
    return spec.model_copy(update={"edges": [*edges, edge]})


def _mismatch(source: str, out: PortInfo, target: str, inp: PortInfo, t_ports: NodePorts) -> str:
    text = (f"Cannot connect `{source}.{out.name}` ({out.type_label}) to `{target}.{inp.name}` "
            f"({inp.type_label}).")
    free = [p for p in t_ports.inputs.values() if p.name != inp.name and is_assignable(out.type, p.type)]
    if free:
        return f"{text} Inputs on `{target}` that accept {out.type_label}: {_listing(free)}."
    return f"{text} Convert the value first, or connect a port of type {inp.type_label}."


def _listing(ports: Iterable[PortInfo]) -> str:
    return ", ".join(f"`{p.name}` ({p.type_label})" for p in ports) or "none"


def _reaches(spec: PipelineSpec, start: str, goal: str) -> bool:
    downstream: dict[str, list[str]] = {}
    for e in spec.edges:
        downstream.setdefault(e.source.node, []).append(e.target.node)
    seen, stack = {start}, [start]
    while stack:
        for nxt in downstream.get(stack.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _node(spec: PipelineSpec, node_id: str) -> NodeSpec:
    node = spec.node(node_id)
    if node is None:
        raise EditError(f"There is no node `{node_id}` in this pipeline (it may have just been deleted).")
    return node


def delete(spec: PipelineSpec, node_ids: Iterable[str] = (), edge_ids: Iterable[str] = ()) -> PipelineSpec:
    """Remove nodes (with every wire that touches them) and wires."""
    gone, gone_edges = set(node_ids), set(edge_ids)
    nodes = [n for n in spec.nodes if n.id not in gone]
    edges = [e for e in spec.edges if e.source.node not in gone and e.target.node not in gone
             and edge_id(e) not in gone_edges]
    layout = {k: v for k, v in spec.layout.items() if k not in gone}
    return spec.model_copy(update={"nodes": nodes, "edges": edges, "layout": layout})


def move(spec: PipelineSpec, positions: Mapping[str, tuple[float, float]]) -> PipelineSpec:
    ids = {n.id for n in spec.nodes}
    layout = dict(spec.layout)
    for node_id, (x, y) in positions.items():
        if node_id in ids:
            layout[node_id] = Position(x=round(float(x), 1), y=round(float(y), 1))
        elif isinstance(layout.get(node_id), StickyNote):  # a note moves like a node, keeping its text and size
            layout[node_id] = layout[node_id].model_copy(update={"x": round(float(x), 1), "y": round(float(y), 1)})
    return spec.model_copy(update={"layout": layout})


def _replace_node(spec: PipelineSpec, node: NodeSpec) -> PipelineSpec:
    return spec.model_copy(update={"nodes": [node if n.id == node.id else n for n in spec.nodes]})


def set_param(spec: PipelineSpec, node_id: str, name: str, value: Any) -> PipelineSpec:
    node = _node(spec, node_id)
    return _replace_node(spec, node.model_copy(update={"params": {**node.params, name: value}}))


def set_policy(spec: PipelineSpec, node_id: str, name: str, value: Any) -> PipelineSpec:
    """Set one policy field; a policy equal to the defaults is stored as none at all."""
    node = _node(spec, node_id)
    current = (node.policy or NodePolicy()).model_dump()
    try:
        policy = NodePolicy.model_validate({**current, name: value})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise EditError(f"Policy `{name}` of node `{node_id}`: {error['msg']}.") from None
    stored = None if policy == NodePolicy() else policy
    return _replace_node(spec, node.model_copy(update={"policy": stored}))


def set_label(spec: PipelineSpec, node_id: str, label: str) -> PipelineSpec:
    node = _node(spec, node_id)
    label = label[:200]  # kept as typed: the inspector echoes it back into the field being edited
    return _replace_node(spec, node.model_copy(update={"label": label if label.strip() else None}))


def rename_node(spec: PipelineSpec, old: str, new: str) -> PipelineSpec:
    """Give a node a new id; its wires and position follow."""
    new = new.strip()
    _node(spec, old)
    if new == old:
        return spec
    if not re.match(NODE_ID_PATTERN, new):
        raise EditError(f"`{new}` is not a valid node id: start with a letter or _, then use letters, digits, "
                        "_ and - (at most 64).")
    if spec.node(new) is not None:
        raise EditError(f"Node id `{new}` is already taken by another node.")

    def ref(r: PortRef) -> PortRef:
        return PortRef(node=new, port=r.port) if r.node == old else r

    nodes = [n.model_copy(update={"id": new}) if n.id == old else n for n in spec.nodes]
    edges = [EdgeSpec(source=ref(e.source), target=ref(e.target)) for e in spec.edges]
    layout = {(new if k == old else k): v for k, v in spec.layout.items()}
    return spec.model_copy(update={"nodes": nodes, "edges": edges, "layout": layout})


def set_name(spec: PipelineSpec, name: str) -> PipelineSpec:
    if not name.strip():
        raise EditError("A pipeline needs a name.")
    if len(name) > 200:
        raise EditError(f"Pipeline names are at most 200 characters (this one has {len(name)}).")
    return spec.model_copy(update={"name": name})


def copy_nodes(spec: PipelineSpec, node_ids: Iterable[str]) -> dict[str, Any]:
    """A clipboard: the nodes, the wires among them, and their positions (JSON data)."""
    wanted = set(node_ids)
    nodes = [n for n in spec.nodes if n.id in wanted]
    edges = [e for e in spec.edges if e.source.node in wanted and e.target.node in wanted]
    layout = {k: v.model_dump() for k, v in spec.layout.items() if k in wanted}
    return {"nodes": [n.model_dump(mode="json") for n in nodes], "edges": [e.model_dump(mode="json") for e in edges],
            "layout": layout}


def paste(spec: PipelineSpec, clipboard: Mapping[str, Any], offset: tuple[float, float] = (40.0, 40.0)
          ) -> tuple[PipelineSpec, list[str]]:
    """Add the clipboard's nodes under fresh ids, shifted by `offset`; wires among them follow."""
    taken = {n.id for n in spec.nodes}
    renamed: dict[str, str] = {}
    nodes, layout = list(spec.nodes), dict(spec.layout)
    fallback = positions(spec)
    for raw in clipboard.get("nodes", []):
        node = NodeSpec.model_validate(raw)
        new_id = new_node_id(taken, re.sub(r"_\d+$", "", node.id))
        taken.add(new_id)
        renamed[node.id] = new_id
        nodes.append(node.model_copy(update={"id": new_id}))
        pos = clipboard.get("layout", {}).get(node.id)
        x, y = (float(pos["x"]), float(pos["y"])) if pos else fallback.get(node.id, (0.0, 0.0))
        layout[new_id] = Position(x=x + offset[0], y=y + offset[1])
    edges = list(spec.edges)
    for raw in clipboard.get("edges", []):
        edge = EdgeSpec.model_validate(raw)
        if edge.source.node in renamed and edge.target.node in renamed:
            edges.append(EdgeSpec(source=PortRef(node=renamed[edge.source.node], port=edge.source.port),
                                  target=PortRef(node=renamed[edge.target.node], port=edge.target.port)))
    return spec.model_copy(update={"nodes": nodes, "edges": edges, "layout": layout}), list(renamed.values())


def positions(spec: PipelineSpec) -> dict[str, tuple[float, float]]:
    """Every node's position: its saved one, else a left-to-right layered default (depth = longest path)."""
    depth: dict[str, int] = {}
    upstream: dict[str, list[str]] = {}
    for e in spec.edges:
        upstream.setdefault(e.target.node, []).append(e.source.node)
    ids = [n.id for n in spec.nodes]
    for node_id in ids:
        _depth(node_id, upstream, depth, set())
    rows: dict[int, int] = {}
    result: dict[str, tuple[float, float]] = {}
    for node_id in ids:
        saved = spec.layout.get(node_id)
        if saved is not None:
            result[node_id] = (saved.x, saved.y)
            continue
        d = depth.get(node_id, 0)
        row = rows[d] = rows.get(d, -1) + 1
        result[node_id] = (d * GRID_X, row * GRID_Y)
    return result


def _depth(node_id: str, upstream: dict[str, list[str]], depth: dict[str, int], visiting: set[str]) -> int:
    if node_id in depth:
        return depth[node_id]
    if node_id in visiting:  # a cycle (validation reports it): stop here
        return 0
    visiting.add(node_id)
    stack = [(node_id, iter(upstream.get(node_id, ())))]
    # iterative DFS: a 5,000-node chain must not hit the recursion limit
    best: dict[str, int] = {node_id: 0}
    while stack:
        current, parents = stack[-1]
        parent = next(parents, None)
        if parent is None:
            stack.pop()
            depth[current] = best[current]
            visiting.discard(current)
            if stack:
                below = stack[-1][0]
                best[below] = max(best[below], depth[current] + 1)
            continue
        if parent in depth:
            best[current] = max(best[current], depth[parent] + 1)
        elif parent not in visiting:
            visiting.add(parent)
            best[parent] = 0
            stack.append((parent, iter(upstream.get(parent, ()))))
    return depth[node_id]


def duplicate(spec: PipelineSpec, node_ids: Iterable[str]) -> tuple[PipelineSpec, list[str]]:
    return paste(spec, copy_nodes(spec, node_ids))
