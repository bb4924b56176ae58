"""Quick-connect: a dropped wire offers exactly the components with a fitting port, and wires the one picked."""

from __future__ import annotations

import pytest

from editor import graph
from editor.graph import EditError
from editor.quick_connect import HEAD_OFFSET, NEW_NODE_WIDTH, Link, candidates, quick_add
from runtime import is_assignable, validate


@pytest.fixture
def spec(registry, empty):
    spec, _ = graph.add_node(empty, registry, "demo.echo", 0, 0)  # value: str -> value: str
    spec, _ = graph.add_node(spec, registry, "t.scale", 0, 300)  # factor: float -> value: float
    return spec


def _ids(items):
    return {item["id"] for item in items}


def test_a_dragged_output_offers_exactly_the_components_with_an_input_it_may_feed(registry, spec):
    items = candidates(spec, registry, Link("echo", "value", "source"))
    offered = _ids(items)
    assert {"demo.echo", "demo.join", "io.output"} <= offered
    assert not offered & {"t.scale", "t.numbers", "io.input", "demo.constant"}  # float input, or no input at all
    dragged = graph.node_ports(spec.node("echo"), registry).outputs["value"].type
    for info in registry:
        ports = graph.node_ports(graph.NodeSpec(id="x", component=info.id, version=info.version), registry)
        fits = ports is not None and any(is_assignable(dragged, p.type) for p in ports.inputs.values())
        assert (info.id in offered) == fits, info.id
    join = next(item for item in items if item["id"] == "demo.join")
    assert join["port"] == "a" and join["title"] == "Join"  # the required input first


def test_a_dragged_input_offers_outputs_that_may_feed_it_never_through_the_error_port(registry, spec):
    items = candidates(spec, registry, Link("scale", "factor", "target"))
    offered = _ids(items)
    assert {"t.numbers", "t.scale"} <= offered
    assert "demo.echo" not in offered  # str does not feed float; its `error` output (a dict) is not offered either
    numbers = next(item for item in items if item["id"] == "t.numbers")
    assert numbers["port"] == "ratio"  # the same type first


def test_without_a_link_every_component_is_offered_once(registry, spec):
    items = candidates(spec, registry, None)
    assert _ids(items) == {info.id for info in registry}
    assert len(items) == len(_ids(items)) and all(item["port"] == "" for item in items)


def test_a_link_to_an_unknown_node_or_port_is_a_clear_error(registry, spec):
    with pytest.raises(EditError, match="There is no node `gone`"):
        candidates(spec, registry, Link("gone", "value", "source"))
    with pytest.raises(EditError, match="Node `echo` has no output port `nope`"):
        candidates(spec, registry, Link("echo", "nope", "source"))


def test_picking_from_an_output_adds_the_node_at_the_drop_point_and_wires_it(registry, spec):
    after, node_id = quick_add(spec, registry, "demo.join", 400, 100, Link("echo", "value", "source"))
    assert node_id == "join"
    assert (after.layout["join"].x, after.layout["join"].y) == (400, 100 - HEAD_OFFSET)
    assert [graph.edge_id(e) for e in after.edges] == ["echo.value->join.a"]
    assert not [i for i in validate(after, registry) if i.node_id == "join" and i.port == "a"]


def test_picking_for_an_input_puts_the_new_node_left_of_the_drop_point(registry, spec):
    after, node_id = quick_add(spec, registry, "t.numbers", -100, 300, Link("scale", "factor", "target"))
    assert after.layout[node_id].x == -100 - NEW_NODE_WIDTH
    assert [graph.edge_id(e) for e in after.edges] == [f"{node_id}.ratio->scale.factor"]


def test_picking_an_incompatible_component_is_refused_and_changes_nothing(registry, spec):
    with pytest.raises(EditError, match="`t.scale` has no port that fits `echo.value` \\(str\\)"):
        quick_add(spec, registry, "t.scale", 0, 0, Link("echo", "value", "source"))


def test_link_of_accepts_only_a_wire_end():
    assert Link.of({"node": "a", "port": "p", "side": "source"}) == Link("a", "p", "source")
    assert Link.of(None) is None and Link.of({"node": "a", "port": "p", "side": "up"}) is None
