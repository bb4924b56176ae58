"""Quick-connect: a wire dropped on empty canvas offers the components that can take it, and wires the one picked.

Compatibility is the runtime's own rule (`is_assignable`) applied to real port types, never to labels in
the browser. The reserved `error` output is never offered: every component has one, so it would match
any input that takes a dict.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from runtime import ComponentInfo, NodeSpec, PipelineSpec, PortInfo, Registry, is_assignable
from runtime.validation import ERROR_PORT

from .graph import EditError, NodePorts, add_node, connect, node_ports
from .views import category_color

__all__ = ["Link", "candidates", "quick_add", "NEW_NODE_WIDTH", "HEAD_OFFSET"]

Side = Literal["source", "target"]  # the dragged handle: an output ("source") or an input ("target")
NEW_NODE_WIDTH = 200.0  # about a node's width: a node fed from the right lands with its outputs at the cursor
HEAD_OFFSET = 34.0  # the node's first port row sits about this far below its top


@dataclass(frozen=True, slots=True)
class Link:
    """The end of the wire being dragged: its node, port and which side of that node the port is on."""

    node: str
    port: str
    side: Side

    @classmethod
    def of(cls, data: Any) -> Link | None:
        if not isinstance(data, dict) or data.get("side") not in ("source", "target"):
            return None
        return cls(str(data.get("node", "")), str(data.get("port", "")), data["side"])


@functools.lru_cache(maxsize=8)
def _latest(registry: Registry) -> tuple[tuple[ComponentInfo, NodePorts | None], ...]:
    """Each installed component's newest version with the ports of a fresh node (default params)."""
    found = []
    for info in registry:
        if info.version == max(registry.versions(info.id)):
            fresh = NodeSpec(id="new", component=info.id, version=info.version)
            found.append((info, node_ports(fresh, registry)))
    return tuple(sorted(found, key=lambda pair: (pair[0].category, pair[0].title)))


def _dragged(spec: PipelineSpec, registry: Registry, link: Link) -> PortInfo:
    node = spec.node(link.node)
    ports = node_ports(node, registry) if node is not None else None
    if ports is None:
        raise EditError(f"There is no node `{link.node}` with known ports to connect from.")
    port = (ports.outputs if link.side == "source" else ports.inputs).get(link.port)
    if port is None:
        kind = "output" if link.side == "source" else "input"
        raise EditError(f"Node `{link.node}` has no {kind} port `{link.port}`.")
    return port


def _fitting(ports: NodePorts, dragged: PortInfo, side: Side) -> list[PortInfo]:
    """The ports of `ports` the dragged port may be wired to, best first (required, then the same type)."""
    if side == "source":
        fits = [p for p in ports.inputs.values() if is_assignable(dragged.type, p.type)]
        return sorted(fits, key=lambda p: (not p.required, p.type_label != dragged.type_label))
    fits = [p for p in ports.outputs.values() if p.name != ERROR_PORT and is_assignable(p.type, dragged.type)]
    return sorted(fits, key=lambda p: p.type_label != dragged.type_label)


def candidates(spec: PipelineSpec, registry: Registry, link: Link | None) -> list[dict[str, Any]]:
    """The palette's items: every component (no link), or those with a port that fits the dragged one."""
    dragged = _dragged(spec, registry, link) if link is not None else None
    items = []
    for info, ports in _latest(registry):
        port = ""
        if dragged is not None and link is not None:
            fits = _fitting(ports, dragged, link.side) if ports is not None else []
            if not fits:
                continue
            port = fits[0].name
        items.append({"id": info.id, "title": info.title, "category": info.category,
                      "color": category_color(info.category), "port": port,
                      "description": (info.description.splitlines() or [""])[0]})
    return items


def quick_add(spec: PipelineSpec, registry: Registry, component_id: str, x: float, y: float,
              link: Link | None) -> tuple[PipelineSpec, str]:
    """Add `component_id` at the drop point (x, y) and, with a link, wire it to the dragged port: one edit."""
    if link is None:
        return add_node(spec, registry, component_id, x, y)
    dragged = _dragged(spec, registry, link)
    left = x if link.side == "source" else x - NEW_NODE_WIDTH
    spec, node_id = add_node(spec, registry, component_id, left, y - HEAD_OFFSET)
    ports = node_ports(spec.node(node_id), registry)  # type: ignore[arg-type]  # just added
    fits = _fitting(ports, dragged, link.side) if ports is not None else []
    if not fits:
        raise EditError(f"`{component_id}` has no port that fits `{link.node}.{link.port}` "
                        f"({dragged.type_label}); pick one of the components offered.")
    if link.side == "source":
        return connect(spec, registry, link.node, link.port, node_id, fits[0].name), node_id
    return connect(spec, registry, node_id, fits[0].name, link.node, link.port), node_id

