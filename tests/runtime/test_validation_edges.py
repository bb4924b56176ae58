"""`validate()`: the issues of edges and of the graph (missing ends, ports, types, fan-in, cycles, outputs)."""

from __future__ import annotations

import pytest

from runtime import validate
from runtime.testing.specs import make_spec
from runtime.validation import analyse
from tests.runtime.validation_kit import build, codes, only, with_test_components


@pytest.fixture
def registry(registry):
    return with_test_components(registry)


@pytest.mark.parametrize(("edge", "side", "ghost"), [
    (("ghost", "value", "out", "value"), "source", "ghost"),
    (("q", "value", "ghost", "value"), "target", "ghost"),
])
def test_missing_node(registry, edge, side, ghost):
    spec = build([("q", "io.input"), ("out", "io.output")], [edge])
    issue = only(validate(spec, registry), "missing_node")
    s, sp, t, tp = edge
    # Pinned to the end that exists, where the editor can show it.
    assert (issue.node_id, issue.port) == ((t, tp) if side == "source" else (s, sp))
    assert issue.message == f"Edge `{s}.{sp}` → `{t}.{tp}`: {side} node `{ghost}` does not exist."
    assert issue.hint == "Delete the edge or add the node."


MISSING_PORTS = [
    (("e", "text", "out", "value"), "e", "text",
     "Edge `e.text` → `out.value`: node `e` (`demo.echo`) has no output port `text`.",
     "Output ports of `e`: `value` (str), `error` (dict[str, Any])."),
    (("q", "value", "e", "text"), "e", "text",
     "Edge `q.value` → `e.text`: node `e` (`demo.echo`) has no input port `text`.",
     "Input ports of `e`: `value` (str)."),
    (("e", "value", "q", "value"), "q", "value",
     "Edge `e.value` → `q.value`: node `q` (`io.input`) has no input port `value`.",
     "Input ports of `q`: none."),
    (("q", "value", "e", "error"), "e", "error",
     "Edge `q.value` → `e.error`: node `e` (`demo.echo`) has no input port `error`.",
     "Input ports of `e`: `value` (str)."),
]


@pytest.mark.parametrize(("edge", "node_id", "port", "message", "hint"), MISSING_PORTS,
                         ids=["output", "input", "no-inputs-at-all", "error-is-not-an-input"])
def test_missing_port(registry, edge, node_id, port, message, hint):
    spec = build([("q", "io.input"), ("e", "demo.echo"), ("out", "io.output")],
                 [("q", "value", "e", "value"), ("e", "value", "out", "value"), edge])
    issue = only(validate(spec, registry), "missing_port")
    assert (issue.node_id, issue.port) == (node_id, port)
    assert issue.message == message
    assert issue.hint == hint


def test_type_mismatch_names_both_types(registry):
    spec = build([("n", "io.input", {"type": "integer"}), ("e", "demo.echo")], [("n", "value", "e", "value")])
    issue = only(validate(spec, registry), "type_mismatch")
    assert (issue.node_id, issue.port) == ("e", "value")
    assert issue.message == "Cannot connect `n.value` (int) to `e.value` (str)."
    assert issue.hint == "Convert the value first (e.g. with `text.template`), or connect a port of type str."


def test_type_mismatch_hint_lists_inputs_that_fit(registry):
    spec = build([("n", "io.input", {"type": "integer"}), ("t", "test.text_and_count")], [("n", "value", "t", "text")])
    issue = only(validate(spec, registry), "type_mismatch")
    assert issue.message == "Cannot connect `n.value` (int) to `t.text` (str)."
    assert issue.hint == "Inputs on `t` that accept int: `count` (int)."


def test_the_error_port_carries_a_dict(registry):
    spec = build([("q", "io.input"), ("a", "demo.echo"), ("b", "demo.echo")],
                 [("q", "value", "a", "value"), ("a", "error", "b", "value")])
    issue = only(validate(spec, registry), "type_mismatch")
    assert issue.message == "Cannot connect `a.error` (dict[str, Any]) to `b.value` (str)."


@pytest.mark.parametrize(("input_type", "target", "port", "fits"), [
    ("string", "demo.echo", "value", True),
    ("integer", "demo.echo", "value", False),
    ("number", "demo.echo", "value", False),
    ("boolean", "demo.echo", "value", False),
    ("json", "demo.echo", "value", True),
    ("integer", "test.ratio", "ratio", True),
    ("number", "test.ratio", "ratio", True),
    ("boolean", "test.ratio", "ratio", True),
    ("string", "test.ratio", "ratio", False),
    ("integer", "test.text_and_count", "count", True),
    ("number", "test.text_and_count", "count", False),
    ("string", "demo.concat", "values", True),
    ("integer", "demo.concat", "values", False),
])
def test_the_io_input_type_param_sets_its_output_type(registry, input_type, target, port, fits):
    spec = build([("n", "io.input", {"type": input_type}), ("t", target)], [("n", "value", "t", port)])
    mismatches = [i for i in validate(spec, registry) if i.code == "type_mismatch"]
    assert (not mismatches) is fits
    if not fits:
        label = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}[input_type]
        assert f"`n.value` ({label})" in mismatches[0].message


def test_multiple_edges_into_a_single_value_input(registry):
    spec = build([("c1", "demo.constant"), ("c2", "demo.constant"), ("e", "demo.echo"), ("out", "io.output")],
                 [("c1", "value", "e", "value"), ("c2", "value", "e", "value"), ("e", "value", "out", "value")])
    issue = only(validate(spec, registry), "multiple_edges")
    assert (issue.node_id, issue.port) == ("e", "value")
    assert issue.message == ("Input `e.value` has 2 incoming edges (`c1.value`, `c2.value`), but it takes one value "
                             "(str).")
    assert issue.hint == "Keep one edge, or join the branches first with `logic.merge`."


def test_multiple_edges_message_stays_short_for_many_sources(registry):
    nodes = {f"c{i}": ("demo.constant", {}) for i in range(15)}
    spec = make_spec({**nodes, "e": ("demo.echo", {})}, [(f"c{i}", "value", "e", "value") for i in range(15)])
    issue = only(validate(spec, registry), "multiple_edges")
    listed = ", ".join(f"`c{i}.value`" for i in range(10))
    assert issue.message == f"Input `e.value` has 15 incoming edges ({listed} and 5 more), but it takes one value (str)."


def test_a_list_input_takes_many_edges(registry):
    spec = build([("a", "demo.constant"), ("b", "demo.constant"), ("j", "demo.concat"), ("out", "io.output")],
                 [("a", "value", "j", "values"), ("b", "value", "j", "values"), ("j", "value", "out", "value")])
    assert validate(spec, registry) == []


def test_required_input_unconnected(registry):
    spec = build([("q", "io.input"), ("j", "demo.join"), ("out", "io.output")],
                 [("q", "value", "j", "b"), ("j", "value", "out", "value")])
    issue = only(validate(spec, registry), "required_input_unconnected")
    assert (issue.node_id, issue.port) == ("j", "a")
    assert issue.message == "Node `j` (`demo.join` v1): required input `a` is not connected and has no default."
    assert issue.hint == "Connect an output of type str to `j.a`."


@pytest.mark.parametrize("bad_edge", [("n", "value", "e", "value"), ("ghost", "value", "e", "value"),
                                      ("q", "nope", "e", "value")], ids=["mistyped", "missing-node", "missing-port"])
def test_a_broken_edge_into_a_required_input_is_reported_once(registry, bad_edge):
    spec = build([("q", "io.input"), ("n", "io.input", {"type": "integer"}), ("e", "demo.echo"),
                  ("out", "io.output"), ("out_q", "io.output"), ("out_n", "io.output")],
                 [bad_edge, ("e", "value", "out", "value"), ("q", "value", "out_q", "value"),
                  ("n", "value", "out_n", "value")])
    issues = validate(spec, registry)
    assert len(issues) == 1, [i.message for i in issues]
    assert issues[0].code in {"type_mismatch", "missing_node", "missing_port"}


def test_cycle_names_its_nodes_in_spec_order(registry):
    spec = build([("q", "io.input"), ("a", "demo.concat"), ("b", "demo.echo"), ("c", "demo.echo"),
                  ("out", "io.output")],
                 [("q", "value", "a", "values"), ("c", "value", "a", "values"), ("a", "value", "b", "value"),
                  ("b", "value", "c", "value"), ("b", "value", "out", "value")])
    issue = only(validate(spec, registry), "cycle")
    assert issue.node_id == "a"
    assert issue.message == "The pipeline has a cycle: `a` → `b` → `c` → `a`."
    assert issue.hint == "Pipelines are acyclic: remove one of the edges in the cycle."


def test_a_self_loop_is_a_cycle(registry):
    spec = build([("q", "io.input"), ("j", "demo.concat")], [("q", "value", "j", "values"), ("j", "value", "j", "values")])
    assert only(validate(spec, registry), "cycle").message == "The pipeline has a cycle: `j` → `j`."


def test_two_separate_cycles_are_both_reported(registry):
    spec = build([("a", "demo.echo"), ("b", "demo.echo"), ("c", "demo.echo"), ("d", "demo.echo")],
                 [("a", "value", "b", "value"), ("b", "value", "a", "value"),
                  ("c", "value", "d", "value"), ("d", "value", "c", "value")])
    messages = sorted(i.message for i in validate(spec, registry) if i.code == "cycle")
    assert messages == ["The pipeline has a cycle: `a` → `b` → `a`.", "The pipeline has a cycle: `c` → `d` → `c`."]


def test_duplicate_edge(registry):
    spec = build([("q", "io.input"), ("e", "demo.echo"), ("out", "io.output")],
                 [("q", "value", "e", "value"), ("q", "value", "e", "value"), ("e", "value", "out", "value")])
    issues = validate(spec, registry)
    issue = only(issues, "duplicate_edge")
    assert (issue.node_id, issue.port) == ("e", "value")
    assert issue.message == "The edge `q.value` → `e.value` appears twice."
    assert issue.hint == "Delete the duplicate edge."
    assert codes(issues) == ["duplicate_edge"]  # not also "multiple_edges"


@pytest.mark.parametrize(("first", "second", "name"), [
    (("a", "io.input", {"name": "query"}), ("b", "io.input", {"name": "query"}), "query"),
    (("query", "io.input", {}), ("b", "io.input", {"name": "query"}), "query"),
])
def test_duplicate_input_name(registry, first, second, name):
    spec = build([first, second, ("out", "io.output")],
                 [(first[0], "value", "out", "value"), (second[0], "value", "out", "value")])
    issue = only(validate(spec, registry), "duplicate_input_name")
    assert issue.node_id == second[0]
    assert issue.message == f"Input name `{name}` is used by nodes `{first[0]}`, `{second[0]}`."
    assert issue.hint == "Give each `io.input` its own `name`."


def test_no_outputs_is_a_warning(registry):
    spec = build([("q", "io.input"), ("e", "demo.echo")], [("q", "value", "e", "value")])
    issue = only(validate(spec, registry), "no_outputs")
    assert issue.severity == "warning"
    assert issue.message == "The pipeline has no `io.output` node, so runs return no outputs."
    assert issue.hint == "Add an `io.output` node and connect the result to it."
    assert analyse(spec, registry).ok


def test_unreachable_output_is_a_warning_per_node(registry):
    spec = build([("q", "io.input"), ("main", "demo.echo"), ("side", "demo.echo"), ("tail", "demo.echo"),
                  ("out", "io.output")],
                 [("q", "value", "main", "value"), ("q", "value", "side", "value"), ("side", "value", "tail", "value"),
                  ("main", "value", "out", "value")])
    issues = validate(spec, registry)
    assert [(i.code, i.node_id, i.severity) for i in issues] == [
        ("unreachable_output", "side", "warning"), ("unreachable_output", "tail", "warning")]
    assert issues[0].message == ("Node `side` (`demo.echo`): its outputs reach no `io.output`, so its results "
                                 "are not returned.")
    assert issues[0].hint == "Connect it towards an `io.output`, or delete it if it is not needed."


def test_reachability_warnings_wait_until_the_errors_are_fixed(registry):
    spec = build([("q", "io.input"), ("side", "demo.echo"), ("bad", "nope.nope")], [("q", "value", "side", "value")])
    assert codes(validate(spec, registry)) == ["unknown_component"]
