"""Checks of a spec's `interface` section: every name it uses must be an input, output or node of the spec.

Called by `validation.analyse` with the nodes that resolved; pure, one `Issue` per bad field.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .issues import Issue
from .spec import ChatInterface, PipelineSpec

__all__ = ["check_interface", "CHAT_TEXT_TYPES"]

CHAT_TEXT_TYPES = ("string", "json")  # io.input types a chat message (or the history) can go to


def check_interface(spec: PipelineSpec, nodes: Mapping[str, Any]) -> list[Issue]:
    """Issues for `spec.interface` given the resolved nodes (`node id -> ResolvedNode`)."""
    chat = spec.interface.chat if spec.interface else None
    if chat is None:
        return []
    inputs = {getattr(n.params, "name", None) or node_id: getattr(n.params, "type", "string")
              for node_id, n in nodes.items() if n.info.id == "io.input"}
    outputs = [node_id for node_id, n in nodes.items() if n.info.id == "io.output"]
    issues = [*_input_issues(chat, inputs), *_output_issues(chat, outputs, nodes)]
    if chat.stream_from is not None and chat.stream_from not in {n.id for n in spec.nodes}:
        issues.append(_issue("stream_from", f"is `{chat.stream_from}`, which is not a node of this pipeline.",
                             "Name the model node whose tokens are the reply" + _near(chat.stream_from,
                                                                                      [n.id for n in spec.nodes])))
    return issues


def _input_issues(chat: ChatInterface, inputs: dict[str, str]) -> list[Issue]:
    issues = []
    for field, name in (("input", chat.input), ("history", chat.history)):
        if name is None:
            continue
        if name not in inputs:
            listing = ", ".join(f"`{n}`" for n in inputs) or "none"
            issues.append(_issue(field, f"is `{name}`, which is not an input of this pipeline (its inputs: "
                                        f"{listing}).", "Use the `name` of an `io.input` node" +
                                 _near(name, list(inputs))))
        elif inputs[name] not in CHAT_TEXT_TYPES:
            what = "a chat message" if field == "input" else "the earlier messages"
            issues.append(_issue(field, f"is `{name}`, an input of type `{inputs[name]}`; {what} cannot go "
                                        "there.", "Point it at an input of type `string` or `json`"))
    if chat.history is not None and chat.history == chat.input:
        issues.append(_issue("history", f"is `{chat.history}`, the same input as `interface.chat.input`.",
                             "Give the earlier messages their own `io.input` (type `json`), or leave `history` "
                             "out"))
    return issues


def _output_issues(chat: ChatInterface, outputs: list[str], nodes: Mapping[str, Any]) -> list[Issue]:
    if chat.output in outputs:
        return []
    listing = ", ".join(f"`{n}`" for n in outputs) or "none"
    if chat.output in nodes:
        kind = nodes[chat.output].info.id
        return [_issue("output", f"is `{chat.output}`, a `{kind}` node, not an `io.output` (the outputs: "
                                 f"{listing}).", "Name the `io.output` node that the reply comes out of")]
    return [_issue("output", f"is `{chat.output}`, which is not an output of this pipeline (its outputs: "
                             f"{listing}).", "Use the id of an `io.output` node" + _near(chat.output, outputs))]


def _issue(field: str, what: str, hint: str) -> Issue:
    return Issue(code="invalid_interface", path=f"interface.chat.{field}",
                 message=f"`interface.chat.{field}` {what}", hint=hint + ".")


def _near(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""
