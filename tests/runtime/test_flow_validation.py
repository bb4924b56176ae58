"""Subflow specs: typed ports read from the subflow, and every way a flow node can be wrong, as text."""

from __future__ import annotations

import pytest

from runtime.component import port_infos
from runtime.issues import InvalidSpec
from runtime.plan import compile_plan
from runtime.spec import PipelineSpec
from runtime.testing.flows import flow_registry, sub_spec, with_subflows
from runtime.validation import analyse, validate

ECHO = sub_spec("echo", {"text": ("io.input", {}), "times": ("io.input", {"type": "integer", "default": 1}),
                         "e": ("demo.echo", {"prefix": ">"}), "n": ("demo.length", {}),
                         "said": ("io.output", {}), "size": ("io.output", {})},
                [("text.value", "e.value"), ("e.value", "said.value"), ("e.value", "n.value"),
                 ("n.n", "size.value")])


def main(node: tuple, edges: list[tuple[str, str]], source: tuple = ("io.input", {})) -> dict:
    nodes = {"q": source, "f": node}
    if any(target.startswith("out.") for _, target in edges):
        nodes["out"] = ("io.output", {})
    return sub_spec("main", nodes, edges)


@pytest.fixture
def registry():
    return flow_registry()


def messages(spec: PipelineSpec, registry) -> list[str]:
    return [i.message for i in validate(spec, registry) if i.severity == "error"]


def test_subflow_node_has_the_subflows_typed_inputs_and_outputs(registry):
    spec = with_subflows(main(("flow.subflow", {"subflow": "echo"}), [("q.value", "f.text"), ("f.size", "out.value")]),
                         echo=ECHO)
    analysis = analyse(spec, registry)
    assert analysis.ok, analysis.issues
    node = analysis.nodes["f"]
    assert {p.name: (p.type_label, p.required) for p in port_infos(node.inputs_model)} == {
        "text": ("str", True), "times": ("int", False)}
    assert {p.name: p.type_label for p in port_infos(node.outputs_model)} == {"said": "str", "size": "int"}


def test_map_ports_are_lists_of_the_subflows_and_errors(registry):
    spec = with_subflows(main(("flow.map", {"subflow": "echo", "over": "text"}), [("q.value", "f.items"),
                                                                                  ("f.size", "out.value")],
                              ("io.input", {"type": "json"})), echo=ECHO)
    node = analyse(spec, registry).nodes["f"]
    assert {p.name: p.type_label for p in port_infos(node.inputs_model)} == {"items": "list[str]", "times": "int"}
    assert {p.name: p.type_label for p in port_infos(node.outputs_model)} == {
        "said": "list[str]", "size": "list[int]", "errors": "list[dict[str, Any]]"}


def test_loop_ports_add_iterations_and_stopped_by(registry):
    spec = with_subflows(main(("flow.loop", {"subflow": "echo", "max_iterations": 3, "carry": {"said": "text"}}),
                              [("q.value", "f.text"), ("f.said", "out.value")]), echo=ECHO)
    node = analyse(spec, registry).nodes["f"]
    assert [p.name for p in port_infos(node.outputs_model)] == ["said", "size", "iterations", "stopped_by"]


def test_unknown_subflow_is_named_with_the_known_ones(registry):
    spec = with_subflows(main(("flow.subflow", {"subflow": "ecoh"}), [("q.value", "f.text")]), echo=ECHO)
    assert messages(spec, registry) == [
        "Node `f` (`flow.subflow` v1): subflow `ecoh` is not in the spec's `subflows`. Subflows: `echo`."]


def test_recursion_is_an_error_naming_the_cycle(registry):
    a = sub_spec("a", {"x": ("io.input", {}), "b": ("flow.subflow", {"subflow": "b"}), "y": ("io.output", {})},
                 [("x.value", "b.x"), ("b.y", "y.value")])
    b = sub_spec("b", {"x": ("io.input", {}), "a": ("flow.subflow", {"subflow": "a"}), "y": ("io.output", {})},
                 [("x.value", "a.x"), ("a.y", "y.value")])
    spec = with_subflows(main(("flow.subflow", {"subflow": "a"}), [("q.value", "f.x")]), a=a, b=b)
    found = messages(spec, registry)
    assert "Subflows use each other in a cycle: `a` → `b` → `a`." in found
    assert "Node `f` (`flow.subflow` v1): subflow `a` uses itself: `a` → `b` → `a`." in found
    with pytest.raises(InvalidSpec):
        compile_plan(spec, registry)


def test_a_subflow_using_itself_directly(registry):
    a = sub_spec("a", {"x": ("io.input", {}), "me": ("flow.map", {"subflow": "a", "over": "x"}),
                       "y": ("io.output", {})}, [("me.y", "y.value")])
    spec = with_subflows(main(("flow.subflow", {"subflow": "a"}), [("q.value", "f.x")]), a=a)
    assert "Subflows use each other in a cycle: `a` → `a`." in messages(spec, registry)


def test_wrong_over_lists_the_subflows_inputs(registry):
    spec = with_subflows(main(("flow.map", {"subflow": "echo", "over": "txt"}), [("q.value", "f.items")]), echo=ECHO)
    issues = [i for i in validate(spec, registry) if i.severity == "error"]
    assert [i.message for i in issues] == [
        "Node `f` (`flow.map` v1): `over` names `txt`, which is not an input of subflow `echo`. "
        "Its inputs: `text`, `times`."]
    assert issues[0].path == "params.over"


def test_type_mismatch_across_the_boundary(registry):
    """A str wired into the subflow's integer input; a map's list of ints into a str input."""
    spec = with_subflows(main(("flow.subflow", {"subflow": "echo"}), [("q.value", "f.text"), ("q.value", "f.times")]),
                         echo=ECHO)
    assert messages(spec, registry) == ["Cannot connect `q.value` (str) to `f.times` (int)."]
    mapped = with_subflows(sub_spec("main", {
        "q": ("io.input", {"type": "json"}), "m": ("flow.map", {"subflow": "echo", "over": "text"}),
        "again": ("flow.subflow", {"subflow": "echo"}), "out": ("io.output", {})},
        [("q.value", "m.items"), ("m.size", "again.text"), ("again.said", "out.value")]), echo=ECHO)
    assert messages(mapped, registry) == ["Cannot connect `m.size` (list[int]) to `again.text` (str)."]


def test_problems_inside_a_subflow_are_named_with_it(registry):
    broken = sub_spec("broken", {"x": ("io.input", {}), "e": ("demo.echo", {"prefx": ""}), "y": ("io.output", {})},
                      [("x.value", "e.value"), ("e.value", "y.value")])
    spec = with_subflows(main(("flow.subflow", {"subflow": "broken"}), [("q.value", "f.x")]), broken=broken)
    issues = [i for i in validate(spec, registry) if i.severity == "error"]
    assert issues[0].message == "Subflow `broken`: Node `e` (`demo.echo` v1): unknown param `prefx`. Did you mean `prefix`?"
    assert issues[0].path == "subflows.broken.e.params.prefx"


def test_loop_params_are_checked_against_the_subflow(registry):
    spec = with_subflows(main(("flow.loop", {"subflow": "echo", "max_iterations": 2,
                                             "until": {"output": "score", "operator": "gte", "value": 1}}),
                              [("q.value", "f.text")]), echo=ECHO)
    assert messages(spec, registry) == [
        "Node `f` (`flow.loop` v1): `until.output` names `score`, which is not an output of subflow `echo`. "
        "Its outputs: `said`, `size`."]
    carry = with_subflows(main(("flow.loop", {"subflow": "echo", "max_iterations": 2, "carry": {"size": "text"}}),
                               [("q.value", "f.text")]), echo=ECHO)
    assert messages(carry, registry) == [
        "Node `f` (`flow.loop` v1): `carry` feeds output `size` (int) into input `text` (str)."]
    too_many = with_subflows(main(("flow.loop", {"subflow": "echo", "max_iterations": 1001}),
                                  [("q.value", "f.text")]), echo=ECHO)
    assert messages(too_many, registry) == [
        "Node `f` (`flow.loop` v1): param `max_iterations` is invalid: Input should be less than or equal to 1000 "
        "(got 1001)."]


def test_json_export_and_import_keep_subflows(registry):
    from runtime.export.spec_files import export_spec
    from runtime.loading import parse_spec

    spec = with_subflows(main(("flow.subflow", {"subflow": "echo"}), [("q.value", "f.text")]), echo=ECHO)
    for fmt in ("json", "yaml"):
        data = export_spec(spec, fmt).data
        assert b"subflows" in data
        assert parse_spec(data, fmt=fmt).subflows["echo"] == spec.subflows["echo"]
