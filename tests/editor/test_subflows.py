"""The editor with subflows (runtime half only): the palette lists the flow nodes, a spec with subflows loads."""

from __future__ import annotations

from editor import templates
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
