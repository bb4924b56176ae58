"""The typed ports of flow nodes, read from their subflow's `io.input` and `io.output` nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, create_model

from ..component import PortInfo
from ..types import type_label
from .scope import FlowError, FlowScope

__all__ = ["SubflowPorts", "subflow_ports", "ports_model", "names"]

RESERVED = frozenset({"error"})


@dataclass(frozen=True, slots=True)
class SubflowPorts:
    inputs: dict[str, PortInfo]  # by input name (the `io.input`'s `name`, else its node id)
    outputs: dict[str, PortInfo]  # by `io.output` node id, typed as the value wired into it


def names(ports: dict[str, Any]) -> str:
    return ", ".join(f"`{n}`" for n in ports) or "none"


def subflow_ports(name: str, scope: FlowScope | None) -> SubflowPorts:
    """The subflow's inputs and outputs; `FlowError` for an unknown or self-using subflow."""
    if scope is None:
        raise FlowError("unknown_subflow", f"subflow `{name}` cannot be read here (no spec around the node).",
                        "Validate the node inside its pipeline spec.")
    if name not in scope.subflows:
        raise FlowError("unknown_subflow",
                        f"subflow `{name}` is not in the spec's `subflows`. Subflows: {names(scope.subflows)}.",
                        "Set `subflow` to one of them, or add the subflow to the spec's `subflows`.")
    cycle = scope.cycle_of(name)
    if cycle is not None:
        path = " → ".join(f"`{n}`" for n in [*cycle, cycle[0]])
        raise FlowError("subflow_cycle", f"subflow `{name}` uses itself: {path}.",
                        "Break the cycle: a subflow cannot run itself (for repetition use `flow.loop`).")
    analysis = scope.analysis(name)
    inputs, outputs = {}, {}
    sources = {e.target.node: e.source for e in analysis.edges}
    for node_id, node in analysis.nodes.items():
        if node.info.id == "io.input":
            from ..builtins import INPUT_TYPES

            params: Any = node.params
            required = "default" not in params.model_fields_set
            inputs[params.name or node_id] = PortInfo(params.name or node_id, INPUT_TYPES[params.type], required,
                                                      params.description, None if required else params.default)
        elif node.info.id == "io.output":
            source = sources.get(node_id)
            kind = Any if source is None else analysis.nodes[source.node].outputs[source.port].type
            outputs[node_id] = PortInfo(node_id, kind, False, node.spec.label or "")
    return SubflowPorts(inputs, outputs)


def ports_model(title: str, ports: list[PortInfo]) -> type[BaseModel]:
    """A pydantic model with one field per port (optional ports get their default)."""
    for port in ports:
        if port.name in RESERVED or not port.name.isidentifier() or hasattr(BaseModel, port.name):
            raise FlowError("invalid_subflow_port", f"the subflow's port name `{port.name}` cannot be a port here.",
                            "Rename that `io.input`/`io.output` node in the subflow.")
    fields: dict[str, Any] = {
        p.name: (p.type, Field(... if p.required else p.default, description=p.description or type_label(p.type)))
        for p in ports}
    return create_model(title, **fields)
