"""How a chat conversation maps onto a pipeline: which input gets the message, which output is the reply.

The spec's `interface.chat` section says so; without one, the single `string` input and the single output
are used. Tokens stream from `stream_from`, by default the node wired straight into the output.
`chat_mapping(plan)` gives the mapping or the reason there is none. Pure: no HTTP here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..plan import Plan
from ..results import RunResult, jsonable
from ..text import shorten
from ..usage import TOKEN_FIELDS, usage_total

__all__ = ["ChatMapping", "ChatMessage", "chat_mapping", "chat_inputs", "reply_text", "run_usage"]


@dataclass(frozen=True, slots=True)
class ChatMapping:
    input: str
    output: str
    stream_from: str | None = None
    history: str | None = None
    history_type: str = "json"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str


def chat_mapping(plan: Plan) -> ChatMapping | str:
    """The plan's chat mapping, or why it cannot be chatted with (a sentence naming the fix)."""
    declared = plan.spec.interface.chat if plan.spec.interface else None
    if declared is not None:  # names already checked by validation
        mapping = ChatMapping(declared.input, declared.output, declared.stream_from, declared.history,
                              plan.inputs[declared.history][1].type if declared.history else "json")
    else:
        mapping_or_reason = _default_mapping(plan)
        if isinstance(mapping_or_reason, str):
            return mapping_or_reason
        mapping = mapping_or_reason
    if mapping.stream_from is None:
        mapping = replace(mapping, stream_from=_feeder(plan, mapping.output))
    unfilled = [name for name, (_, params) in plan.inputs.items()
                if name not in (mapping.input, mapping.history) and "default" not in params.model_fields_set]
    if unfilled:
        names = ", ".join(f"`{n}`" for n in unfilled)
        return (f"input(s) {names} are required and a chat message cannot fill them: give them a `default`, or "
                f"call the pipeline at /v1/pipelines/{plan.spec.name}/run.")
    return mapping


def _default_mapping(plan: Plan) -> ChatMapping | str:
    texts = [name for name, (_, params) in plan.inputs.items() if params.type == "string"]
    fix = ('declare `"interface": {"chat": {"input": "<input name>", "output": "<output node id>"}}` in '
           "the spec")
    if len(texts) != 1:
        found = ", ".join(f"`{n}`" for n in texts) or "none"
        return f"it has {len(texts)} `string` inputs ({found}), not one, and no `interface.chat`: {fix}."
    if len(plan.output_ids) != 1:
        found = ", ".join(f"`{n}`" for n in plan.output_ids) or "none"
        return f"it has {len(plan.output_ids)} outputs ({found}), not one, and no `interface.chat`: {fix}."
    return ChatMapping(texts[0], plan.output_ids[0])


def _feeder(plan: Plan, output: str) -> str | None:
    """The node whose value the output returns as it is (one edge in, not from an `io.input`)."""
    sources = [edge.source.node for edge in plan.spec.edges if edge.target.node == output]
    if len(sources) != 1 or plan.nodes[plan.by_id[sources[0]]].component_id == "io.input":
        return None
    return sources[0]


def chat_inputs(mapping: ChatMapping, message: str, earlier: Sequence[ChatMessage]) -> dict[str, Any]:
    """The run inputs for one chat turn: the message, and the earlier messages when there is a history input."""
    inputs: dict[str, Any] = {mapping.input: message}
    if mapping.history is not None:
        if mapping.history_type == "string":
            inputs[mapping.history] = "\n".join(f"{m.role}: {m.content}" for m in earlier)
        else:
            inputs[mapping.history] = [{"role": m.role, "content": m.content} for m in earlier]
    return inputs


def reply_text(mapping: ChatMapping, result: RunResult, pipeline: str) -> str:
    """The assistant's reply: the chosen output as text, or a sentence saying why there is none."""
    if mapping.output in result.outputs:
        return as_text(result.outputs[mapping.output])
    node = result.nodes.get(mapping.output)
    why = f": {node.skip_reason}" if node is not None and node.skip_reason else ""
    others = [f"`{name}` = {shorten(as_text(value), 200, '…')}" for name, value in result.outputs.items()]
    went = f" The run produced {', '.join(others)} instead." if others else ""
    return (f"[No answer: this run of pipeline `{pipeline}` did not produce its `{mapping.output}` output"
            f"{why}.{went} Run id: {result.run_id}.]")


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(jsonable(value), ensure_ascii=False)


def run_usage(node_outputs: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The run's tokens for an OpenAI-compatible `usage`: the run record's total (`runtime.usage`)."""
    total = usage_total(node_outputs)
    return {name: getattr(total, name) for name in TOKEN_FIELDS}
