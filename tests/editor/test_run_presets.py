""""Run from here" and pins: which nodes are reused, and stored JSON validated back into the port types."""

from __future__ import annotations

import pytest

from components_catalog.types import Document
from editor.run_presets import (
    PresetError,
    changed_nodes,
    descendants,
    parse_pin,
    plan_output_types,
    reuse_outputs,
    revive,
    spec_output_types,
)
from runtime import compile
from runtime.live import LiveRuns
from runtime.testing.specs import make_spec


def chain(prefix: str = "a:"):
    return make_spec({"q": ("io.input", {}), "a": ("demo.echo", {"prefix": prefix}), "b": ("demo.echo", {"prefix": "b:"}),
                      "c": ("demo.echo", {}), "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("a", "value", "b", "value"), ("b", "value", "out", "value"),
                      ("q", "value", "c", "value")])


LAST = {"q": {"value": "x"}, "a": {"value": "a:x"}, "b": {"value": "b:a:x"}, "c": {"value": "x"},
        "out": {"value": "b:a:x"}}


def test_descendants_include_the_start_and_everything_downstream():
    assert descendants(chain(), {"a"}) == {"a", "b", "out"}
    assert descendants(chain(), {"c"}) == {"c"}


def test_run_from_here_reuses_everything_not_downstream_of_the_start(registry):
    plan = compile(chain(), registry)
    reuse = reuse_outputs(plan, "b", chain(), LAST, {"q": "x"}, {"q": "x"})
    assert set(reuse) == {"q", "a", "c"}
    assert reuse["a"] == {"value": "a:x"}


def test_an_edited_node_upstream_of_the_start_runs_again_with_what_follows_it(registry):
    edited = chain(prefix="A:")
    assert changed_nodes(edited, chain(), {"q": "x"}, {"q": "x"}) == {"a"}
    reuse = reuse_outputs(compile(edited, registry), "b", chain(), LAST, {"q": "x"}, {"q": "x"})
    assert set(reuse) == {"q", "c"}


def test_a_changed_input_value_is_not_reused(registry):
    assert changed_nodes(chain(), chain(), {"q": "y"}, {"q": "x"}) == {"q"}
    reuse = reuse_outputs(compile(chain(), registry), "b", chain(), LAST, {"q": "y"}, {"q": "x"})
    assert reuse == {}


def test_a_new_wire_into_a_node_counts_as_a_change():
    rewired = make_spec({"q": ("io.input", {}), "a": ("demo.echo", {"prefix": "a:"}), "b": ("demo.echo", {"prefix": "b:"}),
                         "c": ("demo.echo", {}), "out": ("io.output", {})},
                        [("q", "value", "a", "value"), ("c", "value", "b", "value"), ("b", "value", "out", "value"),
                         ("q", "value", "c", "value")])
    assert changed_nodes(rewired, chain(), {"q": "x"}, {"q": "x"}) == {"b"}


def test_stored_documents_come_back_as_documents_not_dicts():
    stored = {"documents": [{"id": "d1", "text": "hello", "metadata": {}, "score": 0.5}]}
    revived = revive({"documents": list[Document]}, "retrieve", stored)
    assert isinstance(revived["documents"][0], Document) and revived["documents"][0].score == 0.5


def test_outputs_that_do_not_fit_the_ports_are_refused_with_the_port_and_the_reason():
    with pytest.raises(PresetError, match=r"Output `a.value`: Input should be a valid string"):
        revive({"value": str}, "a", {"value": 5})
    with pytest.raises(PresetError, match=r"Node `a` has no output port `text`. Its outputs: `value`."):
        revive({"value": str}, "a", {"text": "x"})
    with pytest.raises(PresetError, match=r"`a.error` cannot be set"):
        revive({"value": str}, "a", {"error": {}})


def test_a_typed_pin_must_be_a_json_object_of_ports(registry):
    spec = chain()
    types = spec_output_types(spec, registry, "a")
    assert types == plan_output_types(compile(spec, registry), "a")
    assert parse_pin(types, "a", '{"value": "mocked"}') == {"value": "mocked"}
    with pytest.raises(PresetError, match=r"not valid JSON \(Expecting value at line 1, column 1\)"):
        parse_pin(types, "a", "nope")
    with pytest.raises(PresetError, match=r'Pin a JSON object of output port -> value, e.g. \{"value": ...\}'):
        parse_pin(types, "a", '"just text"')


async def test_a_reused_run_reports_the_reused_nodes_and_runs_the_rest(registry):
    plan = compile(chain(), registry)
    reuse = reuse_outputs(plan, "b", chain(), {**LAST, "a": {"value": "from-last-run"}}, {"q": "x"}, {"q": "x"})
    live = LiveRuns().start(plan, {"q": "x"}, record=False, reuse=reuse, pinned={"c": {"value": "pinned"}})
    final = [s async for s in live.watch(0.01)][-1]
    nodes = final["nodes"]
    assert {n: (v["status"], v["cache_source"]) for n, v in nodes.items() if v["status"] == "cached"} == {
        "q": ("cached", "reused"), "a": ("cached", "reused"), "c": ("cached", "pinned")}
    assert nodes["b"]["status"] == "succeeded" and final["outputs"] == {"out": "b:from-last-run"}
