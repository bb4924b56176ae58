"""What the editor sends the canvas for a spec (nodes, positions, wires): the input of `graph_patches.update`."""

from __future__ import annotations

from typing import Any

from editor import graph, views
from runtime import PipelineSpec, validate
from runtime.registry import Registry

__all__ = ["canvas_view"]


def canvas_view(spec: PipelineSpec, reg: Registry) -> tuple[list[dict[str, Any]], dict[str, list[float]], list[list[Any]]]:
    ports = {n.id: graph.node_ports(n, reg) for n in spec.nodes}
    return (views.flow_nodes(spec, reg, ports), views.flow_positions(spec),
            views.flow_edges(spec, ports, validate(spec, reg)))
