"""The spec's `interface` section: validation of every name in it, the default mapping, export, templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime import compile as compile_plan
from runtime.export import export_spec
from runtime.registry import default_registry
from runtime.serving.chat_interface import ChatMapping, chat_mapping
from runtime.spec import PipelineSpec
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec
from runtime.validation import validate

ROOT = Path(__file__).resolve().parents[2]


def spec(interface: dict[str, Any] | None = None) -> PipelineSpec:
    base = make_spec({"q": ("io.input", {"name": "query"}), "h": ("io.input", {"name": "history", "type": "json"}),
                      "n": ("io.input", {"name": "count", "type": "integer", "default": 1}),
                      "gen": ("demo.stream", {}), "answer": ("io.output", {})},
                     [("q", "value", "gen", "value"), ("gen", "value", "answer", "value")], name="chat")
    data = base.model_dump(mode="json")
    if interface is not None:
        data["interface"] = interface
    return PipelineSpec.model_validate(data)


def interface_issues(interface: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(i.path, i.message, i.hint) for i in validate(spec(interface), sample_registry())
            if i.code == "invalid_interface"]


def test_a_valid_interface_has_no_issues_and_maps() -> None:
    chat = {"input": "query", "output": "answer", "stream_from": "gen", "history": "history"}
    assert interface_issues({"chat": chat}) == []
    plan = compile_plan(spec({"chat": chat}), sample_registry())
    assert chat_mapping(plan) == ChatMapping("query", "answer", "gen", "history", "json")


def test_every_unknown_name_is_an_issue_naming_the_field_and_the_fix() -> None:
    issues = interface_issues({"chat": {"input": "qury", "output": "gen", "stream_from": "generate",
                                        "history": "count"}})
    assert issues == [
        ("interface.chat.input", "`interface.chat.input` is `qury`, which is not an input of this pipeline (its "
                                 "inputs: `query`, `history`, `count`).",
         "Use the `name` of an `io.input` node (did you mean `query`?)."),
        ("interface.chat.history", "`interface.chat.history` is `count`, an input of type `integer`; the earlier "
                                   "messages cannot go there.", "Point it at an input of type `string` or `json`."),
        ("interface.chat.output", "`interface.chat.output` is `gen`, a `demo.stream` node, not an `io.output` (the "
                                  "outputs: `answer`).", "Name the `io.output` node that the reply comes out of."),
        ("interface.chat.stream_from", "`interface.chat.stream_from` is `generate`, which is not a node of this "
                                       "pipeline.", "Name the model node whose tokens are the reply."),
    ]
    assert interface_issues({"chat": {"input": "query", "output": "answr", "history": "query"}}) == [
        ("interface.chat.history", "`interface.chat.history` is `query`, the same input as `interface.chat.input`.",
         "Give the earlier messages their own `io.input` (type `json`), or leave `history` out."),
        ("interface.chat.output", "`interface.chat.output` is `answr`, which is not an output of this pipeline (its "
                                  "outputs: `answer`).", "Use the id of an `io.output` node (did you mean `answer`?)."),
    ]


def test_an_interface_with_unknown_keys_is_refused_by_the_spec_model() -> None:
    with pytest.raises(ValueError, match="stream_form"):
        spec({"chat": {"input": "query", "output": "answer", "stream_form": "gen"}})


def test_without_an_interface_the_single_text_input_and_output_map_and_stream_from_the_feeder() -> None:
    plan = compile_plan(make_spec({"q": ("io.input", {}), "gen": ("demo.stream", {}), "o": ("io.output", {})},
                                  [("q", "value", "gen", "value"), ("gen", "value", "o", "value")]), sample_registry())
    assert chat_mapping(plan) == ChatMapping("q", "o", "gen")


def test_a_required_input_a_chat_cannot_fill_makes_the_pipeline_unmappable() -> None:
    base = spec({"chat": {"input": "query", "output": "answer"}})  # `history` is required and not mapped
    reason = chat_mapping(compile_plan(base, sample_registry()))
    assert reason == ("input(s) `history` are required and a chat message cannot fill them: give them a `default`, "
                      "or call the pipeline at /v1/pipelines/chat/run.")


def test_export_keeps_a_declared_interface_and_adds_none_otherwise() -> None:
    declared = spec({"chat": {"input": "query", "output": "answer"}})
    document = json.loads(export_spec(declared).data)
    assert document["interface"] == {"chat": {"input": "query", "output": "answer"}}
    assert "interface" not in json.loads(export_spec(spec()).data)


@pytest.mark.parametrize("name", ["rag_review", "best_of_two", "router"])
def test_every_template_declares_a_chat_interface_that_maps(name: str) -> None:
    template = PipelineSpec.model_validate_json((ROOT / "templates" / f"{name}.json").read_text())
    assert template.interface is not None and template.interface.chat is not None
    mapping = chat_mapping(compile_plan(template, default_registry()))
    assert isinstance(mapping, ChatMapping), mapping
    if name == "rag_review":
        assert mapping == ChatMapping("query", "answer", "generate")
