"""`validate(spec, registry)`: every problem in a spec at once, each with its code, node, port and text.

The tests of each issue code: test_validation_nodes.py (nodes, components, params) and
test_validation_edges.py (edges, ports, types, cycles, outputs).
"""

from __future__ import annotations

from typing import Any

import pytest

from runtime import validate
from runtime.testing.specs import chain_spec, fan_out_spec, make_spec
from tests.runtime.validation_kit import build, codes, only, with_test_components
from tests.timing import fastest


@pytest.fixture
def registry(registry):
    return with_test_components(registry)


# --- valid specs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    chain_spec(3),
    fan_out_spec(3, 0),
    make_spec({"q": ("io.input", {"type": "json"}), "out": ("io.output", {})}, [("q", "value", "out", "value")]),
    make_spec({"q": ("io.input", {}), "j": ("demo.join", {}), "out": ("io.output", {})},
              [("q", "value", "j", "a"), ("j", "value", "out", "value")]),
    make_spec({"q": ("io.input", {}), "r": ("demo.router", {"routes": ["yes", "no"]}), "out": ("io.output", {})},
              [("q", "value", "r", "value"), ("r", "yes", "out", "value")]),
    make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {}), "out": ("io.output", {})},
              [("q", "value", "boom", "value"), ("boom", "error", "out", "value")]),
], ids=["chain", "fan-in", "json-input", "optional-input-free", "router-port", "error-branch"])
def test_valid_specs_have_no_issues(spec, registry):
    assert validate(spec, registry) == []


def test_aliases_and_open_params_models_are_not_unknown_params(registry):
    spec = make_spec({"a": ("test.aliased", {"maxTokens": 5}), "o": ("test.open", {"anything": 1}),
                      "out_a": ("io.output", {}), "out_o": ("io.output", {})},
                     [("a", "value", "out_a", "value"), ("o", "value", "out_o", "value")])
    assert validate(spec, registry) == []


# --- everything at once --------------------------------------------------------------------------

def test_every_problem_is_reported_at_once(registry):
    spec = build(
        [("q", "io.input"), ("n", "io.input", {"type": "integer"}), ("q", "io.input"),
         ("ghost_comp", "demo.nope"), ("slow", "demo.delay", {"seconds": -1}), ("old", "demo.echo", {}, 7),
         ("e", "demo.echo"), ("j", "demo.join"), ("a", "demo.echo"), ("b", "demo.echo"), ("out", "io.output")],
        [("q", "value", "e", "value"), ("n", "value", "e", "value"),      # type mismatch
         ("q", "value", "j", "b"), ("q", "value", "j", "b"),               # duplicate edge; `j.a` unconnected
         ("missing", "value", "out", "value"),                             # missing node
         ("e", "nope", "out", "value"),                                     # missing port
         ("a", "value", "b", "value"), ("b", "value", "a", "value"),       # cycle
         ("j", "value", "out", "value")])
    issues = validate(spec, registry)
    assert sorted(set(codes(issues))) == sorted({
        "duplicate_node_id", "unknown_component", "invalid_params", "unknown_version", "type_mismatch",
        "duplicate_edge", "missing_node", "missing_port", "required_input_unconnected", "cycle"})
    assert all(i.severity == "error" and i.message and i.hint for i in issues)
    by_code = {i.code: i for i in issues}
    assert by_code["unknown_component"].node_id == "ghost_comp"
    assert by_code["invalid_params"].node_id == "slow"
    assert by_code["unknown_version"].node_id == "old"
    assert (by_code["type_mismatch"].node_id, by_code["type_mismatch"].port) == ("e", "value")
    assert (by_code["required_input_unconnected"].node_id, by_code["required_input_unconnected"].port) == ("j", "a")
    assert by_code["cycle"].message == "The pipeline has a cycle: `a` → `b` → `a`."


def test_validate_is_stable(registry):
    spec = build([("a", "demo.echo"), ("b", "nope.x"), ("c", "demo.delay", {"seconds": -1})],
                 [("a", "value", "zz", "value")])
    assert validate(spec, registry) == validate(spec, registry)


# --- big specs -----------------------------------------------------------------------------------

def timed(fn: Any) -> tuple[Any, float]:
    return fastest(fn, bound=2)


@pytest.mark.parametrize("shape", ["chain", "fan-in"])
def test_a_5000_node_spec_validates_in_under_2_s(registry, shape):
    spec = chain_spec(5000) if shape == "chain" else fan_out_spec(5000, 0)
    issues, elapsed = timed(lambda: validate(spec, registry))
    assert issues == []
    assert elapsed < 2, f"{elapsed:.2f}s"


def test_a_5000_node_cycle_is_found_and_named_briefly(registry):
    nodes = {f"n{i}": ("demo.echo", {}) for i in range(5000)}
    spec = make_spec(nodes, [(f"n{i}", "value", f"n{(i + 1) % 5000}", "value") for i in range(5000)])
    issues, elapsed = timed(lambda: validate(spec, registry))
    assert elapsed < 2, f"{elapsed:.2f}s"
    first = " → ".join(f"`n{i}`" for i in range(8))
    assert only(issues, "cycle").message == f"The pipeline has a cycle: {first} → … (4991 more) → `n4999` → `n0`."


def test_5000_broken_nodes_are_all_reported_in_under_2_s(registry):
    nodes = {f"n{i}": (("demo.nope", {}) if i % 2 else ("demo.delay", {"seconds": -1})) for i in range(5000)}
    spec = make_spec(nodes, [(f"n{i}", "value", f"m{i}", "value") for i in range(5000)])
    issues, elapsed = timed(lambda: validate(spec, registry))
    assert elapsed < 2, f"{elapsed:.2f}s"
    assert codes(issues).count("unknown_component") == 2500
    assert codes(issues).count("invalid_params") == 2500
    assert codes(issues).count("missing_node") == 5000
