"""Group nodes into a subflow, and ungroup a subflow node: pure spec edits (see `editor.graph`).

`group` cuts the selected nodes out into a new entry of `spec.subflows` and puts one `flow.subflow`
node in their place. Each wire that crossed the selection's edge becomes a port: a value coming in
becomes an `io.input` of the subflow (one per outside source port, typed like it), a value going out
an `io.output` (one per inside source port). `ungroup` is the reverse. Both refuse, with the reason,
what they cannot do faithfully (error branches across the boundary, a cycle through an outside node).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from runtime import EdgeSpec, NodeSpec, PipelineSpec, PortRef, Registry
from runtime.flow.ports import RESERVED
from runtime.spec import Position
from runtime.validation import ERROR_PORT

from .graph import EditError, flow_scope, new_node_id, node_ports, positions
from .subflow_scope import users

__all__ = ["Grouped", "group", "ungroup", "input_type"]

IO = ("io.input", "io.output")
_SIMPLE_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}
_GAP_X = 300.0


@dataclass(frozen=True, slots=True)
class Grouped:
    spec: PipelineSpec
    node_id: str  # the new `flow.subflow` node
    subflow: str  # the new subflow's name


def input_type(kind: Any) -> str:
    """The `io.input` type that carries a value of `kind`: `string`, `integer`, ... or `json` for anything else."""
    return _SIMPLE_TYPES.get(kind, "json") if isinstance(kind, type) else "json"


def _edge(source: str, source_port: str, target: str, target_port: str) -> EdgeSpec:
    return EdgeSpec(source=PortRef(node=source, port=source_port), target=PortRef(node=target, port=target_port))


def _port_name(base: str, taken: set[str]) -> str:
    """A free name that is a valid port: an identifier, not reserved, not a pydantic attribute."""
    name = re.sub(r"\W", "_", base) or "value"
    if not name.isidentifier():
        name = f"v_{name}"
    if name in RESERVED or hasattr(BaseModel, name):
        name = f"{name}_value"
    name = new_node_id(taken, name) if name in taken else name
    taken.add(name)
    return name


# --- group ----------------------------------------------------------------------------------------

def group(spec: PipelineSpec, registry: Registry, node_ids: Iterable[str], name: str | None = None) -> Grouped:
    """Replace the nodes `node_ids` by a `flow.subflow` node running them as a new subflow."""
    wanted = set(node_ids)
    chosen = [n for n in spec.nodes if n.id in wanted]
    if not chosen:
        raise EditError("Select the nodes to group first (Shift+drag a box, or Ctrl+click nodes), then Group.")
    inside = {n.id for n in chosen}
    _refuse_io(chosen)
    incoming = [e for e in spec.edges if e.target.node in inside and e.source.node not in inside]
    outgoing = [e for e in spec.edges if e.source.node in inside and e.target.node not in inside]
    _refuse_error_wires([*incoming, *outgoing])
    _refuse_cycle(spec, inside)
    sub_name = name or new_node_id(spec.subflows, "group")
    inner_nodes, inner_edges, layout, ins, outs = _cut(spec, registry, chosen, incoming, outgoing)
    subflow = PipelineSpec(name=sub_name, nodes=inner_nodes, edges=inner_edges, layout=layout)
    return _replace_by_node(spec, chosen, subflow, incoming, outgoing, ins, outs)


def _refuse_io(chosen: list[NodeSpec]) -> None:
    for node in chosen:
        if node.component in IO:
            what = "input" if node.component == "io.input" else "output"
            raise EditError(f"`{node.id}` is an {what} of the pipeline ({node.component}), so it cannot move into a "
                            f"subflow. Leave it out of the selection: its wires then become the subflow's {what}s.")


def _refuse_error_wires(edges: list[EdgeSpec]) -> None:
    for e in edges:
        if e.source.port == ERROR_PORT:
            raise EditError(f"The error branch `{e.source} → {e.target}` crosses the selection's edge, and a subflow "
                            "cannot carry a failure through its ports. Select both ends of that wire, or neither.")


def _refuse_cycle(spec: PipelineSpec, inside: set[str]) -> None:
    """An outside node both fed by the selection and feeding it would make the subflow node feed itself."""
    down: dict[str, set[str]] = {}
    up: dict[str, set[str]] = {}
    for e in spec.edges:
        down.setdefault(e.source.node, set()).add(e.target.node)
        up.setdefault(e.target.node, set()).add(e.source.node)
    between = sorted((_reach(inside, down) & _reach(inside, up)) - inside)
    if between:
        listed = ", ".join(f"`{n}`" for n in between)
        verb = ("is", "feeds") if len(between) == 1 else ("are", "feed")
        raise EditError(f"Cannot group: {listed} {verb[0]} fed by the selection and {verb[1]} it too, so the "
                        "subflow node would feed itself. Add them to the selection, or group fewer nodes.")


def _reach(start: set[str], links: dict[str, set[str]]) -> set[str]:
    seen, stack = set(start), list(start)
    while stack:
        for nxt in links.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _cut(spec: PipelineSpec, registry: Registry, chosen: list[NodeSpec], incoming: list[EdgeSpec],
         outgoing: list[EdgeSpec]) -> tuple[list[NodeSpec], list[EdgeSpec], dict[str, Position],
                                            dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """The subflow's nodes, wires and layout; the port name of each outside source and inside source."""
    inside = {n.id for n in chosen}
    scope = flow_scope(spec, registry)
    taken = set(inside)
    where = positions(spec)
    xs = [where[n.id][0] for n in chosen]
    ys = [where[n.id][1] for n in chosen]
    nodes, layout = list(chosen), {n.id: Position(x=where[n.id][0], y=where[n.id][1]) for n in chosen}
    edges = [e for e in spec.edges if e.source.node in inside and e.target.node in inside]
    ins: dict[tuple[str, str], str] = {}
    for e in incoming:
        key = (e.source.node, e.source.port)
        if key not in ins:
            ins[key] = _port_name(e.target.port, taken)
            kind = _port_type(spec, registry, scope, *key, "outputs")
            nodes.append(NodeSpec(id=ins[key], component="io.input", params={"type": input_type(kind)}))
            layout[ins[key]] = Position(x=min(xs) - _GAP_X, y=min(ys) + (len(ins) - 1) * 120.0)
        edges.append(_edge(ins[key], "value", e.target.node, e.target.port))
    outs: dict[tuple[str, str], str] = {}
    for e in outgoing:
        key = (e.source.node, e.source.port)
        if key not in outs:
            outs[key] = _port_name(e.source.port, taken)
            nodes.append(NodeSpec(id=outs[key], component="io.output", params={}))
            layout[outs[key]] = Position(x=max(xs) + _GAP_X, y=min(ys) + (len(outs) - 1) * 120.0)
            edges.append(_edge(e.source.node, e.source.port, outs[key], "value"))
    return nodes, edges, layout, ins, outs


def _port_type(spec: PipelineSpec, registry: Registry, scope: Any, node_id: str, port: str, side: str) -> Any:
    node = spec.node(node_id)
    ports = node_ports(node, registry, scope) if node is not None else None
    info = getattr(ports, side).get(port) if ports is not None else None
    return info.type if info is not None else Any


def _replace_by_node(spec: PipelineSpec, chosen: list[NodeSpec], subflow: PipelineSpec, incoming: list[EdgeSpec],
                     outgoing: list[EdgeSpec], ins: dict[tuple[str, str], str],
                     outs: dict[tuple[str, str], str]) -> Grouped:
    inside = {n.id for n in chosen}
    rest = [n for n in spec.nodes if n.id not in inside]
    node_id = new_node_id((n.id for n in rest), "flow.subflow")
    node = NodeSpec(id=node_id, component="flow.subflow", params={"subflow": subflow.name})
    first = next(i for i, n in enumerate(spec.nodes) if n.id in inside)
    nodes = [n for n in spec.nodes[:first] if n.id not in inside] + [node] + [n for n in spec.nodes[first:]
                                                                            if n.id not in inside]
    edges = [e for e in spec.edges if e.source.node not in inside and e.target.node not in inside]
    edges += [_edge(source, port, node_id, name) for (source, port), name in ins.items()]
    edges += [_edge(node_id, outs[(e.source.node, e.source.port)], e.target.node, e.target.port) for e in outgoing]
    where = positions(spec)
    layout = {k: v for k, v in spec.layout.items() if k not in inside}
    layout[node_id] = Position(x=round(sum(where[n.id][0] for n in chosen) / len(chosen), 1),
                               y=round(sum(where[n.id][1] for n in chosen) / len(chosen), 1))
    result = spec.model_copy(update={"nodes": nodes, "edges": _unique(edges), "layout": layout,
                                     "subflows": {**spec.subflows, subflow.name: subflow}})
    return Grouped(result, node_id, subflow.name)


def _unique(edges: list[EdgeSpec]) -> list[EdgeSpec]:
    seen: set[tuple[str, str, str, str]] = set()
    result = []
    for e in edges:
        key = (e.source.node, e.source.port, e.target.node, e.target.port)
        if key not in seen:
            seen.add(key)
            result.append(e)
    return result


# --- ungroup --------------------------------------------------------------------------------------

def ungroup(spec: PipelineSpec, node_id: str) -> tuple[PipelineSpec, list[str]]:
    """Put the subflow of the `flow.subflow` node `node_id` back in its place; the ids of the nodes it brought."""
    node, sub = _ungroupable(spec, node_id)
    rest_ids = {n.id for n in spec.nodes if n.id != node_id}
    moved = [n for n in sub.nodes if n.component not in IO]
    renamed: dict[str, str] = {}
    for n in moved:
        renamed[n.id] = new_node_id(rest_ids, n.id) if n.id in rest_ids else n.id
        rest_ids.add(renamed[n.id])
    feeds = _outer_feeds(spec, sub, node_id)  # inner io.input id -> the outside ports wired into it
    edges = [e for e in spec.edges if node_id not in (e.source.node, e.target.node)]
    for e in sub.edges:
        if e.target.node in renamed:
            sources = feeds.get(e.source.node, []) if e.source.node not in renamed else \
                [PortRef(node=renamed[e.source.node], port=e.source.port)]
            edges += [EdgeSpec(source=s, target=PortRef(node=renamed[e.target.node], port=e.target.port))
                      for s in sources]
    edges += _outputs_rewired(spec, sub, node_id, renamed, feeds)
    index = next(i for i, n in enumerate(spec.nodes) if n.id == node_id)
    brought = [n.model_copy(update={"id": renamed[n.id]}) for n in moved]
    nodes = [*spec.nodes[:index], *brought, *spec.nodes[index + 1:]]
    layout = {k: v for k, v in spec.layout.items() if k != node_id}
    layout.update(_placed(spec, sub, node_id, renamed))
    after = spec.model_copy(update={"nodes": nodes, "edges": _unique(edges), "layout": layout})
    name = str(node.params["subflow"])
    if not users(after, name):
        after = after.model_copy(update={"subflows": {k: v for k, v in after.subflows.items() if k != name}})
    return after, [renamed[n.id] for n in moved]


def _ungroupable(spec: PipelineSpec, node_id: str) -> tuple[NodeSpec, PipelineSpec]:
    node = spec.node(node_id)
    if node is None:
        raise EditError(f"There is no node `{node_id}` in this pipeline (it may have just been deleted).")
    if node.component != "flow.subflow":
        what = {"flow.map": "runs its subflow once per item", "flow.loop": "runs its subflow repeatedly"}.get(
            node.component)
        raise EditError(f"Only a `flow.subflow` node can be ungrouped: `{node_id}` is a `{node.component}`"
                        + (f", which {what}. Double-click it to edit its subflow." if what else "."))
    name = node.params.get("subflow")
    if not isinstance(name, str) or name not in spec.subflows:
        raise EditError(f"`{node_id}` names subflow `{name}`, which is not in this pipeline's subflows: there is "
                        "nothing to ungroup.")
    for e in spec.edges:
        if e.source.node == node_id and e.source.port == ERROR_PORT:
            raise EditError(f"`{node_id}` has an error branch (`{e.source} → {e.target}`), which has no place once "
                            "its nodes are back in the pipeline. Remove that wire first, then ungroup.")
    return node, spec.subflows[name]


def _outer_feeds(spec: PipelineSpec, sub: PipelineSpec, node_id: str) -> dict[str, list[PortRef]]:
    """For each inner `io.input`, the outside ports wired into the subflow node's port of that name."""
    feeds: dict[str, list[PortRef]] = {}
    for n in sub.nodes:
        if n.component != "io.input":
            continue
        port = str(n.params.get("name") or n.id)
        feeds[n.id] = [e.source for e in spec.edges if e.target.node == node_id and e.target.port == port]
        if not feeds[n.id] and "default" in n.params and any(e.source.node == n.id for e in sub.edges):
            raise EditError(f"Input `{port}` of `{node_id}` is not wired and uses its default "
                            f"({n.params['default']!r}), which would be lost. Wire a value into "
                            f"`{node_id}.{port}` first, then ungroup.")
    return feeds


def _outputs_rewired(spec: PipelineSpec, sub: PipelineSpec, node_id: str, renamed: dict[str, str],
                     feeds: dict[str, list[PortRef]]) -> list[EdgeSpec]:
    """Wires that left the subflow node's outputs, now leaving the inner nodes wired into its io.outputs."""
    into = {e.target.node: e.source for e in sub.edges}
    edges = []
    for n in sub.nodes:
        source = into.get(n.id) if n.component == "io.output" else None
        if source is None:
            continue
        sources = [PortRef(node=renamed[source.node], port=source.port)] if source.node in renamed else \
            feeds.get(source.node, [])
        for e in spec.edges:
            if e.source.node == node_id and e.source.port == n.id:
                edges += [EdgeSpec(source=s, target=e.target) for s in sources]
    return edges


def _placed(spec: PipelineSpec, sub: PipelineSpec, node_id: str, renamed: dict[str, str]) -> dict[str, Position]:
    """The brought nodes where they were in the subflow, centred on where the subflow node stood."""
    inner = positions(sub)
    ids = [i for i in renamed if i in inner]
    if not ids:
        return {}
    cx = sum(inner[i][0] for i in ids) / len(ids)
    cy = sum(inner[i][1] for i in ids) / len(ids)
    x, y = positions(spec)[node_id]
    return {renamed[i]: Position(x=round(inner[i][0] - cx + x, 1), y=round(inner[i][1] - cy + y, 1)) for i in ids}
