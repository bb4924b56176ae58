"""Outputs given to a run instead of running nodes: "Run from here" (reuse) and pins (development mocks).

Pure functions of specs, a compiled plan and stored outputs. Stored outputs are JSON; they are
validated back into each output port's type (a `list[Document]` comes back as Documents, not dicts),
so a node fed a reused or pinned value gets exactly what a real run would have given it.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from runtime import PipelineSpec, Plan, Registry
from runtime.validation import ERROR_PORT

from .graph import node_ports

__all__ = ["PresetError", "descendants", "changed_nodes", "reuse_outputs", "revive", "parse_pin", "plan_output_types",
           "spec_output_types"]


class PresetError(ValueError):
    """Outputs that cannot be used for a node; the message says which port and what was expected."""


def descendants(spec: PipelineSpec, roots: Iterable[str]) -> set[str]:
    """`roots` and every node downstream of them."""
    children: dict[str, set[str]] = defaultdict(set)
    for edge in spec.edges:
        children[edge.source.node].add(edge.target.node)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children[node])
    return seen


def _plain(value: Any) -> Any:
    """Plain JSON data (a mapping or sequence wrapped in a proxy compares by its content)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _node_key(node: Any, incoming: list[str]) -> str:
    return json.dumps([node.component, node.version, _plain(node.params), sorted(incoming)], sort_keys=True,
                      default=str)


def _incoming(spec: PipelineSpec) -> dict[str, list[str]]:
    wires: dict[str, list[str]] = defaultdict(list)
    for e in spec.edges:
        wires[e.target.node].append(f"{e.source.node}.{e.source.port}>{e.target.port}")
    return wires


def changed_nodes(spec: PipelineSpec, last_spec: PipelineSpec, inputs: Mapping[str, Any],
                  last_inputs: Mapping[str, Any]) -> set[str]:
    """Nodes that would not compute what they computed last time: new, edited (component, params, wires),
    or an `io.input` whose value changed."""
    now, then = _incoming(spec), _incoming(last_spec)
    before = {n.id: _node_key(n, then[n.id]) for n in last_spec.nodes}
    changed = set()
    for node in spec.nodes:
        if before.get(node.id) != _node_key(node, now[node.id]):
            changed.add(node.id)
        elif node.component == "io.input":
            name = (node.params or {}).get("name") or node.id
            if inputs.get(name) != last_inputs.get(name):
                changed.add(node.id)
    return changed


def reuse_outputs(plan: Plan, start: str, last_spec: PipelineSpec, last_outputs: Mapping[str, Mapping[str, Any]],
                  inputs: Mapping[str, Any], last_inputs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """"Run from here": outputs of the last run for every node that is neither `start`, downstream of it,
    nor downstream of anything changed since that run. `last_outputs`: node id -> stored outputs of the
    nodes that succeeded (or were cached) in it."""
    spec = plan.spec
    rerun = descendants(spec, {start} | changed_nodes(spec, last_spec, inputs, last_inputs))
    reuse = {}
    for node_id, outputs in last_outputs.items():
        if node_id in rerun or node_id not in plan.by_id:
            continue
        try:
            reuse[node_id] = revive(plan_output_types(plan, node_id), node_id, outputs)
        except PresetError:
            continue  # its ports changed since: it runs again
    return reuse


def plan_output_types(plan: Plan, node_id: str) -> dict[str, Any]:
    """Output port -> type of a node of a compiled plan (its ports as compiled for its params)."""
    model = plan.nodes[plan.by_id[node_id]].outputs_model
    return {name: field.annotation for name, field in model.model_fields.items()}


def spec_output_types(spec: PipelineSpec, registry: Registry, node_id: str) -> dict[str, Any]:
    """Output port -> type of a node of a spec that may not compile (the editor's lenient ports)."""
    node = spec.node(node_id)
    ports = node_ports(node, registry) if node is not None else None
    if ports is None:
        return {}
    return {name: p.type for name, p in ports.outputs.items() if name != ERROR_PORT}


@functools.lru_cache(maxsize=1024)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def revive(types: Mapping[str, Any], node_id: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (JSON) outputs of `node_id`, validated back into its output ports' types (`types`)."""
    revived = {}
    for port, value in outputs.items():
        if port == ERROR_PORT:
            raise PresetError(f"`{node_id}.error` cannot be set: it fires only when the node fails.")
        if port not in types:
            known = ", ".join(f"`{p}`" for p in types) or "none"
            raise PresetError(f"Node `{node_id}` has no output port `{port}`. Its outputs: {known}.")
        try:
            revived[port] = _adapter(types[port]).validate_python(value)
        except TypeError:  # an annotation pydantic cannot hash or build: pass the JSON value as it is
            revived[port] = value
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PresetError(f"Output `{node_id}.{port}`{' at ' + where if where else ''}: {first['msg']}.") from None
    return revived


def parse_pin(types: Mapping[str, Any], node_id: str, text: str) -> dict[str, Any]:
    """A pin typed as JSON: an object of output port -> value, checked against the node's output `types`.

    Returns the JSON data to store (checked, not converted); raises `PresetError` saying what is wrong.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"The pinned output is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno}).") from None
    ports = ", ".join(f"`{p}`" for p in types) or "none"
    if not isinstance(data, dict) or not data:
        example = next(iter(types), "value")
        raise PresetError(f"Pin a JSON object of output port -> value, e.g. {{\"{example}\": ...}}. "
                          f"Outputs of `{node_id}`: {ports}.")
    revive(types, node_id, data)
    return data
