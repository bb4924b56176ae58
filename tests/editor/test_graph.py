"""Pure spec edits: what the canvas does, checked the way the runtime checks it."""

from __future__ import annotations

import pytest

from editor import graph
from editor.graph import EditError
from runtime import NodePolicy, PipelineSpec, validate
from runtime.registry import Registry


def _chain(registry: Registry, empty: PipelineSpec) -> PipelineSpec:
    spec, a = graph.add_node(empty, registry, "io.input", 0, 0)
    spec, b = graph.add_node(spec, registry, "demo.echo", 300, 0)
    spec, c = graph.add_node(spec, registry, "io.output", 600, 0)
    spec = graph.connect(spec, registry, a, "value", b, "value")
    return graph.connect(spec, registry, b, "value", c, "value")


def test_add_node_names_it_after_the_component_and_keeps_the_drop_point(registry, empty):
    spec, first = graph.add_node(empty, registry, "demo.echo", 12.345, 40)
    spec, second = graph.add_node(spec, registry, "demo.echo", 0, 0)
    assert (first, second) == ("echo", "echo_2")
    assert spec.layout["echo"].x == 12.3 and spec.layout["echo"].y == 40
    assert spec.node("echo").component == "demo.echo" and spec.node("echo").params == {}
    assert empty.nodes == []  # never mutated


def test_add_unknown_component_says_so(registry, empty):
    with pytest.raises(EditError, match="Unknown component `nope.x`"):
        graph.add_node(empty, registry, "nope.x", 0, 0)


def test_new_node_ids_are_valid_and_free():
    assert graph.new_node_id(["chat", "chat_2"], "llm.chat") == "chat_3"
    assert graph.new_node_id([], "x.2step") == "n_2step"


def test_a_chain_validates(registry, empty):
    spec = _chain(registry, empty)
    assert [i for i in validate(spec, registry) if i.severity == "error"] == []
    assert [graph.edge_id(e) for e in spec.edges] == ["input.value->echo.value", "echo.value->output.value"]


def test_incompatible_wire_is_refused_with_both_types(registry, empty):
    spec, _ = graph.add_node(empty, registry, "t.numbers", 0, 0)
    spec, _ = graph.add_node(spec, registry, "demo.echo", 300, 0)
    with pytest.raises(EditError) as exc:
        graph.connect(spec, registry, "numbers", "count", "echo", "value")
    assert str(exc.value).startswith("Cannot connect `numbers.count` (int) to `echo.value` (str).")
    spec, _ = graph.add_node(spec, registry, "t.scale", 300, 0)
    spec = graph.connect(spec, registry, "numbers", "count", "scale", "factor")  # int widens to float
    assert len(spec.edges) == 1


def test_mismatch_message_points_at_inputs_that_would_take_the_value(registry, empty):
    spec, _ = graph.add_node(empty, registry, "io.input", 0, 0)
    spec, _ = graph.add_node(spec, registry, "demo.join", 300, 0)
    spec = spec.model_copy(update={"nodes": [spec.nodes[0].model_copy(update={"params": {"type": "integer"}}),
                                             spec.nodes[1]]})
    with pytest.raises(EditError, match=r"Convert the value first, or connect a port of type str"):
        graph.connect(spec, registry, "input", "value", "join", "a")


def test_missing_ports_self_loops_and_cycles_are_refused(registry, empty):
    spec = _chain(registry, empty)
    with pytest.raises(EditError, match="has no output port `nope`. Its outputs: `value` \\(str\\)"):
        graph.connect(spec, registry, "echo", "nope", "output", "value")
    with pytest.raises(EditError, match="has no input port `nope`"):
        graph.connect(spec, registry, "echo", "value", "output", "nope")
    with pytest.raises(EditError, match="to itself"):
        graph.connect(spec, registry, "echo", "value", "echo", "value")
    spec, _ = graph.add_node(spec, registry, "demo.echo", 0, 0)
    spec = graph.connect(spec, registry, "echo", "value", "echo_2", "value")
    with pytest.raises(EditError, match="would make a cycle"):
        graph.connect(spec, registry, "echo_2", "value", "echo", "value")
    with pytest.raises(EditError, match="no node `ghost`"):
        graph.connect(spec, registry, "ghost", "value", "echo", "value")


def test_single_value_inputs_keep_one_wire_and_list_inputs_fan_in(registry, empty):
    spec = _chain(registry, empty)
    spec, _ = graph.add_node(spec, registry, "demo.constant", 0, 200)
    spec = graph.connect(spec, registry, "constant", "value", "echo", "value")
    assert [graph.edge_id(e) for e in spec.edges if e.target.node == "echo"] == ["constant.value->echo.value"]
    assert graph.connect(spec, registry, "constant", "value", "echo", "value") == spec  # the same wire again
    spec, _ = graph.add_node(spec, registry, "demo.concat", 900, 0)
    spec = graph.connect(spec, registry, "constant", "value", "concat", "values")
    spec = graph.connect(spec, registry, "echo", "value", "concat", "values")
    assert len([e for e in spec.edges if e.target.node == "concat"]) == 2


def test_the_error_port_can_be_wired(registry, empty):
    spec = _chain(registry, empty)
    spec = graph.connect(spec, registry, "echo", "error", "output", "value")
    assert graph.edge_id(spec.edges[-1]) == "echo.error->output.value"


def test_delete_takes_the_wires_along(registry, empty):
    spec = _chain(registry, empty)
    after = graph.delete(spec, ["echo"])
    assert [n.id for n in after.nodes] == ["input", "output"] and after.edges == [] and "echo" not in after.layout
    after = graph.delete(spec, edge_ids=["input.value->echo.value"])
    assert [graph.edge_id(e) for e in after.edges] == ["echo.value->output.value"]


def test_move_ignores_unknown_nodes(registry, empty):
    spec = graph.move(_chain(registry, empty), {"echo": (1.26, 2), "ghost": (0, 0)})
    assert (spec.layout["echo"].x, spec.layout["echo"].y) == (1.3, 2.0) and "ghost" not in spec.layout


def test_params_policy_label_and_name(registry, empty):
    spec = _chain(registry, empty)
    spec = graph.set_param(spec, "echo", "prefix", ">> ")
    assert spec.node("echo").params == {"prefix": ">> "}
    spec = graph.set_policy(spec, "echo", "retries", 3)
    assert spec.node("echo").policy == NodePolicy(retries=3)
    spec = graph.set_policy(spec, "echo", "retries", 0)
    assert spec.node("echo").policy is None  # the defaults are stored as no policy at all
    with pytest.raises(EditError, match="Policy `retries` of node `echo`: Input should be less than or equal to 20"):
        graph.set_policy(spec, "echo", "retries", 99)
    spec = graph.set_label(spec, "echo", "Shout it ")
    assert spec.node("echo").label == "Shout it "
    assert graph.set_label(spec, "echo", "  ").node("echo").label is None
    assert graph.set_name(spec, "New name").name == "New name"
    with pytest.raises(EditError, match="needs a name"):
        graph.set_name(spec, "  ")


def test_copy_paste_renames_and_rewires(registry, empty):
    spec = _chain(registry, empty)
    clipboard = graph.copy_nodes(spec, ["input", "echo"])
    assert [e["target"]["node"] for e in clipboard["edges"]] == ["echo"]
    pasted, ids = graph.paste(spec, clipboard)
    assert ids == ["input_2", "echo_2"]
    assert "input_2.value->echo_2.value" in [graph.edge_id(e) for e in pasted.edges]
    assert pasted.layout["echo_2"].x == spec.layout["echo"].x + 40
    again, ids = graph.duplicate(pasted, ["echo_2"])
    assert ids == ["echo_3"]


def test_positions_lay_out_unplaced_nodes_by_depth(registry, empty):
    spec = _chain(registry, empty).model_copy(update={"layout": {}})
    where = graph.positions(spec)
    assert where["input"][0] < where["echo"][0] < where["output"][0]


def test_spec_to_dict_drops_empty_optional_fields(registry, empty):
    data = graph.spec_to_dict(_chain(registry, empty))
    assert "policy" not in data["nodes"][0] and "label" not in data["nodes"][0] and "description" not in data
    assert PipelineSpec.model_validate(data).nodes[1].id == "echo"


def test_node_ports_survive_a_bad_param_and_follow_dynamic_params(registry, empty):
    spec, _ = graph.add_node(empty, registry, "demo.router", 0, 0)
    node = spec.node("router").model_copy(update={"params": {"routes": ["x", "y"]}})
    assert list(graph.node_ports(node, registry).outputs) == ["x", "y", "error"]
    broken = node.model_copy(update={"params": {"routes": "not a list"}})
    assert list(graph.node_ports(broken, registry).outputs) == ["a", "b", "error"]  # back to the defaults
    assert graph.node_ports(node.model_copy(update={"component": "nope.x"}), registry) is None


def test_rename_node_moves_wires_and_position(registry, empty):
    spec = graph.rename_node(_chain(registry, empty), "echo", "shout")
    assert [n.id for n in spec.nodes] == ["input", "shout", "output"] and "shout" in spec.layout
    assert [graph.edge_id(e) for e in spec.edges] == ["input.value->shout.value", "shout.value->output.value"]
    with pytest.raises(EditError, match="`9x` is not a valid node id"):
        graph.rename_node(spec, "shout", "9x")
    with pytest.raises(EditError, match="Node id `input` is already taken"):
        graph.rename_node(spec, "shout", "input")
    assert graph.rename_node(spec, "shout", " shout ") == spec
