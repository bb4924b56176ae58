"""Group into a subflow / ungroup: pure spec edits, checked by validating and running the result."""

from __future__ import annotations

import pytest

from editor import graph, grouping
from editor.graph import EditError
from runtime import EdgeSpec, NodeSpec, PipelineSpec, PortRef, run, validate
from runtime.flow import FLOW_COMPONENTS
from runtime.registry import Registry


@pytest.fixture
def flow_registry(registry: Registry) -> Registry:
    for cls in FLOW_COMPONENTS:
        registry.add(cls, source="runtime.flow")
    return registry


def _e(s: str, sp: str, t: str, tp: str) -> EdgeSpec:
    return EdgeSpec(source=PortRef(node=s, port=sp), target=PortRef(node=t, port=tp))


def _pipeline() -> PipelineSpec:
    """q -> a (echo "a:") -> b (echo "b:") -> c (join a=b, b=q) -> out; q -> c.b as well."""
    return PipelineSpec(name="p", nodes=[
        NodeSpec(id="q", component="io.input"),
        NodeSpec(id="a", component="demo.echo", params={"prefix": "a:"}),
        NodeSpec(id="b", component="demo.echo", params={"prefix": "b:"}, label="Second"),
        NodeSpec(id="c", component="demo.join"),
        NodeSpec(id="out", component="io.output"),
    ], edges=[_e("q", "value", "a", "value"), _e("a", "value", "b", "value"), _e("b", "value", "c", "a"),
              _e("q", "value", "c", "b"), _e("c", "value", "out", "value")])


def _wires(spec: PipelineSpec) -> set[str]:
    return {graph.edge_id(e) for e in spec.edges}


def _errors(spec: PipelineSpec, registry: Registry) -> list[str]:
    return [i.message for i in validate(spec, registry) if i.severity == "error"]


async def test_grouping_three_nodes_makes_a_typed_subflow_that_runs_the_same(flow_registry):
    spec = _pipeline()
    done = grouping.group(spec, flow_registry, ["a", "b", "c"])
    grouped = done.spec
    assert (done.node_id, done.subflow) == ("subflow", "group")
    assert [n.id for n in grouped.nodes] == ["q", "subflow", "out"]
    sub = grouped.subflows["group"]
    # One input per outside source (q feeds a and c), one output per inside source; names never clash.
    assert {n.id: (n.component, n.params) for n in sub.nodes if n.component.startswith("io.")} == {
        "value": ("io.input", {"type": "string"}), "value_2": ("io.output", {})}
    assert _wires(sub) == {"a.value->b.value", "b.value->c.a", "value.value->a.value", "value.value->c.b",
                           "c.value->value_2.value"}
    assert _wires(grouped) == {"q.value->subflow.value", "subflow.value_2->out.value"}
    assert _errors(grouped, flow_registry) == []
    ports = graph.node_ports(grouped.node("subflow"), flow_registry, graph.flow_scope(grouped, flow_registry))
    assert (ports.inputs["value"].type_label, ports.outputs["value_2"].type_label) == ("str", "str")
    before = await run(spec, {"q": "x"}, registry=flow_registry)
    after = await run(grouped, {"q": "x"}, registry=flow_registry)
    assert after.outputs == before.outputs == {"out": "b:a:x+x"}


def test_ungroup_puts_the_nodes_and_wires_back(flow_registry):
    spec = _pipeline()
    grouped = grouping.group(spec, flow_registry, ["a", "b", "c"]).spec
    back, ids = grouping.ungroup(grouped, "subflow")
    assert sorted(ids) == ["a", "b", "c"]
    assert [n.id for n in back.nodes] == ["q", "a", "b", "c", "out"]
    assert {n.id: n for n in back.nodes} == {n.id: n for n in spec.nodes}  # params and labels kept
    assert _wires(back) == _wires(spec)
    assert back.subflows == {}  # nothing else used it
    assert _errors(back, flow_registry) == []


def test_ungroup_renames_nodes_whose_ids_are_taken_and_keeps_a_shared_subflow(flow_registry):
    grouped = grouping.group(_pipeline(), flow_registry, ["a"]).spec
    second = grouped.model_copy(update={"nodes": [*grouped.nodes, NodeSpec(id="a", component="demo.echo"),
                                                  NodeSpec(id="again", component="flow.subflow",
                                                           params={"subflow": "group"})]})
    back, ids = grouping.ungroup(second, "subflow")
    assert ids == ["a_2"]
    assert "q.value->a_2.value" in _wires(back) and "a_2.value->b.value" in _wires(back)
    assert "group" in back.subflows  # `again` still runs it


def test_an_outside_type_becomes_the_input_type(flow_registry):
    spec = PipelineSpec(name="p", nodes=[
        NodeSpec(id="n", component="t.numbers"), NodeSpec(id="s", component="t.scale"),
        NodeSpec(id="o", component="io.output")], edges=[_e("n", "count", "s", "factor"), _e("s", "value", "o", "value")])
    grouped = grouping.group(spec, flow_registry, ["s"]).spec
    assert grouped.subflows["group"].node("factor").params == {"type": "integer"}
    assert _errors(grouped, flow_registry) == []
    assert grouping.input_type(list[str]) == "json" and grouping.input_type(float) == "number"


def test_grouping_refuses_what_it_cannot_do_faithfully(flow_registry):
    spec = _pipeline()
    with pytest.raises(EditError, match="Select the nodes to group first"):
        grouping.group(spec, flow_registry, [])
    with pytest.raises(EditError, match=r"`q` is an input of the pipeline \(io.input\), so it cannot move"):
        grouping.group(spec, flow_registry, ["q", "a"])
    with pytest.raises(EditError, match=r"Cannot group: `b` is fed by the selection and feeds it too"):
        grouping.group(spec, flow_registry, ["a", "c"])
    branch = spec.model_copy(update={"edges": [*spec.edges, _e("a", "error", "out", "value")]})
    with pytest.raises(EditError, match=r"The error branch `a.error → out.value` crosses the selection's edge"):
        grouping.group(branch, flow_registry, ["a", "b"])


def test_ungroup_refuses_map_and_loop_nodes_and_error_branches(flow_registry):
    grouped = grouping.group(_pipeline(), flow_registry, ["a", "b", "c"]).spec
    as_map = grouped.model_copy(update={"nodes": [
        n.model_copy(update={"component": "flow.map", "params": {"subflow": "group", "over": "value"}})
        if n.id == "subflow" else n for n in grouped.nodes]})
    with pytest.raises(EditError, match="Only a `flow.subflow` node can be ungrouped: `subflow` is a `flow.map`, "
                                        "which runs its subflow once per item"):
        grouping.ungroup(as_map, "subflow")
    with pytest.raises(EditError, match="Only a `flow.subflow` node can be ungrouped: `q` is a `io.input`."):
        grouping.ungroup(grouped, "q")
    branch = grouped.model_copy(update={"edges": [*grouped.edges, _e("subflow", "error", "out", "value")]})
    with pytest.raises(EditError, match=r"`subflow` has an error branch \(`subflow.error → out.value`\)"):
        grouping.ungroup(branch, "subflow")


def test_ungroup_refuses_to_drop_an_input_default(flow_registry):
    grouped = grouping.group(_pipeline(), flow_registry, ["a"]).spec
    sub = grouped.subflows["group"]
    sub = sub.model_copy(update={"nodes": [n.model_copy(update={"params": {"default": "d"}})
                                           if n.component == "io.input" else n for n in sub.nodes]})
    unwired = grouped.model_copy(update={"subflows": {"group": sub},
                                         "edges": [e for e in grouped.edges if e.target.node != "subflow"]})
    with pytest.raises(EditError, match=r"Input `value` of `subflow` is not wired and uses its default \('d'\)"):
        grouping.ungroup(unwired, "subflow")


def test_port_names_avoid_reserved_and_pydantic_names(flow_registry):
    spec = PipelineSpec(name="p", nodes=[NodeSpec(id="q", component="io.input"),
                                         NodeSpec(id="e", component="demo.echo"),
                                         NodeSpec(id="o", component="io.output")],
                        edges=[_e("q", "value", "e", "value"), _e("e", "value", "o", "value")])
    assert grouping._port_name("error", set()) == "error_value"
    assert grouping._port_name("json", set()) == "json_value"
    assert grouping._port_name("my-port", {"my_port"}) == "my_port_2"
    assert _errors(grouping.group(spec, flow_registry, ["e"]).spec, flow_registry) == []
