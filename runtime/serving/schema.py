"""JSON Schemas the HTTP service publishes: a pipeline's inputs and outputs, the run body and result."""

from __future__ import annotations

from typing import Any

from ..plan import Plan

__all__ = ["inputs_schema", "outputs_schema", "RUN_BODY_SCHEMA", "RUN_RESULT_SCHEMA"]

_INPUT_TYPES = {"string": {"type": "string"}, "number": {"type": "number"}, "integer": {"type": "integer"},
                "boolean": {"type": "boolean"}, "json": {}}


def inputs_schema(plan: Plan) -> dict[str, Any]:
    """The `inputs` object a run takes: one property per `io.input`, required unless it has a default."""
    properties, required = {}, []
    for name, (_, params) in plan.inputs.items():
        prop = dict(_INPUT_TYPES[params.type])
        if params.description:
            prop["description"] = params.description
        if "default" in params.model_fields_set:
            prop["default"] = params.default
        else:
            required.append(name)
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def outputs_schema(plan: Plan) -> dict[str, Any]:
    """The `outputs` object of a run: one property per `io.output` id, typed by what feeds it."""
    feeds = {edge.target.node: edge.source for edge in plan.spec.edges}
    properties = {node_id: _port_schema(plan, feeds.get(node_id)) for node_id in plan.output_ids}
    return {"type": "object", "properties": properties,
            "description": "An output is missing when the branch feeding it did not run."}


def _port_schema(plan: Plan, source: Any) -> dict[str, Any]:
    if source is None:
        return {}
    node = plan.nodes[plan.by_id[source.node]]
    field = node.outputs_model.model_fields.get(source.port)
    if field is None or field.annotation is None:
        return {"type": "object"} if source.port == "error" else {}
    from pydantic import TypeAdapter

    try:
        schema = TypeAdapter(field.annotation).json_schema()
    except Exception:  # noqa: BLE001 - a type without a JSON Schema: any value
        return {}
    if field.description:
        schema.setdefault("description", field.description)
    return schema


RUN_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"inputs": {"type": "object", "description": "Input values by name (see "
                                                               "GET /v1/pipelines/{name} for the schema)"}},
    "additionalProperties": False,
    "example": {"inputs": {"query": "How do I add a component?"}},
}

EGRESS_SCHEMA: dict[str, Any] = {
    "type": "array", "description": "Every outbound network call (DNS lookup or connect) of the run",
    "items": {"type": "object", "required": ["host", "port", "node", "kind", "ts"], "properties": {
        "host": {"type": "string"}, "port": {"type": ["integer", "string", "null"]},
        "node": {"type": ["string", "null"], "description": "The node that made it; null: outside any node"},
        "kind": {"enum": ["connect", "dns"]}, "ts": {"type": "number", "description": "Unix time"}}}}

_NODE = {"type": "object", "properties": {
    "status": {"enum": ["queued", "running", "succeeded", "failed", "skipped", "cached", "cancelled"]},
    "latency_ms": {"type": ["number", "null"]}, "attempts": {"type": "integer"}, "outputs": {"type": "object"},
    "error": {"type": ["object", "null"]}, "skip_reason": {"type": ["string", "null"]},
    "egress": EGRESS_SCHEMA}}

RUN_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["run_id", "status", "latency_ms", "outputs", "nodes", "egress"],
    "properties": {
        "run_id": {"type": "string"},
        "status": {"enum": ["succeeded", "failed", "cancelled"]},
        "error": {"type": ["object", "null"], "description": "Why the run failed: {type, message}"},
        "latency_ms": {"type": ["number", "null"]},
        "outputs": {"type": "object", "description": "Results by io.output node id"},
        "nodes": {"type": "object", "additionalProperties": _NODE},
        "egress": EGRESS_SCHEMA,
    },
}
