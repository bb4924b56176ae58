"""The editor with subflows (runtime half only): the palette lists the flow nodes, a spec with subflows loads."""

from __future__ import annotations

import pytest

from editor import graph, grouping, subflow_scope, templates
from editor.graph import spec_to_dict
from editor.views import flow_nodes, palette_groups
from runtime import PipelineSpec
from runtime.registry import default_registry
from runtime.validation import validate


def test_the_palette_lists_the_three_flow_nodes():
    groups = {g["category"]: [i["id"] for i in g["items"]] for g in palette_groups(default_registry())}
    assert sorted(groups["Flow"]) == ["flow.loop", "flow.map", "flow.subflow"]


def test_a_template_with_a_subflow_loads_draws_and_round_trips():
    registry = default_registry()
    spec = templates.load_template("refine_loop")
    assert "refine" in spec.subflows
    assert [i for i in validate(spec, registry) if i.severity == "error"] == []
    nodes = {n["id"]: n for n in flow_nodes(spec, registry)}
    assert nodes["refine"]["c"] == "flow.loop@1" and "missing" not in nodes["refine"]
    assert ["iterations", "int"] in nodes["refine"]["out"]
    assert PipelineSpec.model_validate(spec_to_dict(spec)).subflows == spec.subflows


def test_flow_nodes_show_their_subflows_typed_ports_not_the_fallback():
    registry = default_registry()
    spec = templates.load_template("map_summarise")
    node = {n["id"]: n for n in flow_nodes(spec, registry)}["map_docs"]
    assert node["in"] == [["items", "list[Any]", 1], ["question", "str", 1]]
    assert node["out"] == [["summary", "list[str]"], ["errors", "list[dict[str, Any]]"]]
    # Without the spec's subflows (no scope) a flow node falls back to its static ports.
    bare = graph.node_ports(spec.node("map_docs"), registry)
    assert list(bare.outputs) == ["errors", "error"]


def test_connect_checks_a_flow_nodes_real_port_types():
    registry = default_registry()
    spec = templates.load_template("map_summarise")
    spec = spec.model_copy(update={"edges": [e for e in spec.edges if e.target.node != "summaries"]})
    assert graph.connect(spec, registry, "map_docs", "summary", "summaries", "value").edges[-1].source.port == "summary"
    with pytest.raises(graph.EditError, match=r"Cannot connect `map_docs.summary` \(list\[str\]\) to `answer_llm.prompt` \(str\)"):
        graph.connect(spec, registry, "map_docs", "summary", "answer_llm", "prompt")


def test_a_subflow_is_shown_with_the_pipelines_subflows_and_edits_land_in_it():
    registry = default_registry()
    top = templates.load_template("map_summarise")
    shown = subflow_scope.show(top, "summarise", registry)
    assert shown.name == "summarise" and [n.id for n in shown.spec.nodes][:2] == ["document", "question"]
    assert set(shown.spec.subflows) == {"summarise"} and shown.issues == []
    edited = subflow_scope.apply(top, "summarise", lambda s: graph.set_label(s, "prompt", "The prompt"))
    assert edited.subflows["summarise"].node("prompt").label == "The prompt"
    assert edited.subflows["summarise"].subflows == {} and edited.nodes == top.nodes
    assert subflow_scope.show(top, "gone", registry).name == ""  # a subflow that is gone: the pipeline
    assert subflow_scope.opens(top, "map_docs") == "summarise" and subflow_scope.opens(top, "combine") is None


def test_issues_inside_an_open_subflow_are_pinned_to_its_nodes_once():
    registry = default_registry()
    top = templates.load_template("map_summarise")
    broken = subflow_scope.apply(top, "summarise", lambda s: graph.delete(s, edge_ids=["prompt.text->summarise.prompt"]))
    at_top = [i for i in subflow_scope.show(broken, "", registry).issues if i.severity == "error"]
    assert at_top and all(i.node_id is None and i.message.startswith("Subflow `summarise`: ") for i in at_top)
    inside = [i for i in subflow_scope.show(broken, "summarise", registry).issues if i.severity == "error"]
    assert [(i.node_id, i.port) for i in inside] == [("summarise", "prompt")]


def test_grouping_inside_an_open_subflow_adds_a_top_level_subflow():
    registry = default_registry()
    top = templates.load_template("map_summarise")
    grouped = subflow_scope.apply(top, "summarise", lambda s: grouping.group(s, registry, ["prompt", "summarise"]).spec)
    assert set(grouped.subflows) == {"summarise", "group"}
    assert [n.component for n in grouped.subflows["summarise"].nodes].count("flow.subflow") == 1
    assert [i.message for i in validate(grouped, registry) if i.severity == "error"] == []
