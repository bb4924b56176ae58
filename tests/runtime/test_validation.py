"""`validate(spec, registry)`: every problem in a spec at once, each with its code, node, port and text."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runtime import Component, PipelineSpec, RunContext, component, validate
from runtime.registry import LoadProblem
from runtime.testing.specs import chain_spec, fan_out_spec, make_spec
from runtime.validation import analyse
from tests.timing import fastest


def build(nodes: list[tuple], edges: list[tuple[str, str, str, str]] = ()) -> PipelineSpec:
    """Like `make_spec`, but `nodes` is a list of (id, component[, params[, version]]), so ids may repeat."""
    node_list = [{"id": n[0], "component": n[1], "params": n[2] if len(n) > 2 else {},
                  "version": n[3] if len(n) > 3 else 1} for n in nodes]
    edge_list = [{"source": {"node": s, "port": sp}, "target": {"node": t, "port": tp}} for s, sp, t, tp in edges]
    return PipelineSpec.model_validate({"name": "t", "nodes": node_list, "edges": edge_list})


def only(issues: list, code: str):
    """The one issue with `code` (failing with every message when there is not exactly one)."""
    found = [i for i in issues if i.code == code]
    assert len(found) == 1, [f"{i.code}: {i.message}" for i in issues]
    return found[0]


def codes(issues: list) -> list[str]:
    return [i.code for i in issues]


# --- test-only components ----------------------------------------------------------------------

class TextAndCount(BaseModel):
    text: str = Field(description="Some text")
    count: int = Field(1, description="How many")


class Numbers(BaseModel):
    ratio: float = Field(description="A float input")


class Empty(BaseModel):
    pass


class Out(BaseModel):
    value: str = ""


@component(id="test.text_and_count", version=1)
class TakesTextAndCount(Component):
    async def run(self, inputs: TextAndCount, ctx: RunContext) -> Out:
        return Out()


@component(id="test.ratio", version=1)
class TakesRatio(Component):
    async def run(self, inputs: Numbers, ctx: RunContext) -> Out:
        return Out()


class RequiredParams(BaseModel):
    url: str = Field(description="Where to send it")
    lo: int = 0
    hi: int = 10

    @model_validator(mode="after")
    def _ordered(self) -> RequiredParams:
        if self.lo > self.hi:
            raise ValueError("lo must not exceed hi")
        return self


@component(id="test.required_params", version=1)
class NeedsParams(Component):
    params: RequiredParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class AliasedParams(BaseModel):
    max_tokens: int = Field(16, alias="maxTokens")


@component(id="test.aliased", version=1)
class Aliased(Component):
    params: AliasedParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class OpenParams(BaseModel):
    model_config = ConfigDict(extra="allow")


@component(id="test.open", version=1)
class OpenComponent(Component):
    params: OpenParams

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


class PortParams(BaseModel):
    mode: str = "ok"


@component(id="test.bad_ports", version=1)
class BadPorts(Component):
    params: PortParams

    @classmethod
    def ports(cls, params: BaseModel) -> tuple[type[BaseModel], type[BaseModel]]:
        assert isinstance(params, PortParams)
        if params.mode == "broken":
            return dict, dict  # type: ignore[return-value] - a component bug, not a spec problem
        if params.mode != "ok":
            raise ValueError(f"mode `{params.mode}` has no ports\nsecond line of detail")
        return Empty, Out

    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


@component(id="demo.echo", version=2)
class EchoV2(Component):
    async def run(self, inputs: Out, ctx: RunContext) -> Out:
        return inputs


@pytest.fixture
def registry(registry):
    for cls in (TakesTextAndCount, TakesRatio, NeedsParams, Aliased, OpenComponent, BadPorts):
        registry.add(cls, source="tests")
    return registry


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


# --- one test per issue code ---------------------------------------------------------------------

def test_no_nodes(registry):
    issues = validate(PipelineSpec(name="empty"), registry)
    assert len(issues) == 1
    assert (issues[0].code, issues[0].severity) == ("no_nodes", "error")
    assert issues[0].message == "The pipeline has no nodes."
    assert issues[0].hint == "Add at least an `io.input` and an `io.output` node."


def test_duplicate_node_id(registry):
    spec = build([("q", "io.input"), ("a", "demo.echo"), ("a", "demo.echo", {"prefix": "x"}), ("out", "io.output")],
                 [("q", "value", "a", "value"), ("a", "value", "out", "value")])
    issues = validate(spec, registry)
    issue = only(issues, "duplicate_node_id")
    assert issue.node_id == "a"
    assert issue.message == "Node id `a` is used by more than one node."
    assert issue.hint == "Give every node a unique id."
    assert codes(issues) == ["duplicate_node_id"]


def test_unknown_component_suggests_the_near_name(registry):
    issue = only(validate(build([("n", "demo.ech")]), registry), "unknown_component")
    assert issue.node_id == "n"
    assert issue.message == "Unknown component `demo.ech` on node `n`. Did you mean `demo.echo`?"


def test_unknown_component_lists_its_family(registry):
    issue = only(validate(build([("n", "demo.qqq")]), registry), "unknown_component")
    assert issue.message == (
        "Unknown component `demo.qqq` on node `n`. Installed demo components: `demo.bad_return`, "
        "`demo.cancel_itself`, `demo.concat`, `demo.constant`, `demo.count_items`, `demo.counter`, "
        "`demo.delay`, `demo.echo` and 6 more.")
    assert issue.hint == "Install the plugin that provides it (see `patchwire components`)."


def test_unknown_component_suggests_a_close_name(registry):
    issue = only(validate(build([("n", "dmeo.echo")]), registry), "unknown_component")
    assert issue.message == "Unknown component `dmeo.echo` on node `n`. Did you mean `demo.echo`?"


@component(id="retrieval.chroma", version=1)
class ChromaLike(Component):
    async def run(self, inputs: Empty, ctx: RunContext) -> Out:
        return Out()


def test_unknown_component_does_not_suggest_unrelated_names(registry):
    registry.add(ChromaLike, source="tests")  # `eval.score` is 54% like `retrieval.chroma`: not a typo of it
    issue = only(validate(build([("n", "eval.score")]), registry), "unknown_component")
    assert issue.message == "Unknown component `eval.score` on node `n`."


def test_unknown_component_without_a_near_name(registry):
    issue = only(validate(build([("n", "zzz.qqq")]), registry), "unknown_component")
    assert issue.message == "Unknown component `zzz.qqq` on node `n`."


def test_unknown_component_hint_names_plugins_that_failed(registry):
    registry.problems.append(LoadProblem("plugin `acme.py`", "plugin `acme.py` failed to load: ImportError: no acme"))
    issue = only(validate(build([("n", "acme.search")]), registry), "unknown_component")
    assert issue.hint == ("Install the plugin that provides it (see `patchwire components`). "
                          "1 plugin failed to load (plugin `acme.py`): see `patchwire components`.")


def test_a_huge_component_name_is_cut_short(registry):
    issue = only(validate(build([("n", "zzz." + "x" * 100_000)]), registry), "unknown_component")
    assert issue.message == f"Unknown component `zzz.{'x' * 93}...` on node `n`."


def test_unknown_version_lists_the_installed_ones(registry):
    registry.add(EchoV2, source="tests")
    issue = only(validate(build([("e", "demo.echo", {}, 3)]), registry), "unknown_version")
    assert issue.node_id == "e"
    assert issue.message == "Node `e` uses `demo.echo` v3, which is not installed. Installed versions: v1, v2."
    assert issue.hint == "Set the node's version to 2, or install the plugin that provides v3."


INVALID_PARAMS = [
    # (node params, component, path, message, hint)
    ("demo.delay", {"seconds": -1}, "params.seconds",
     "Node `n` (`demo.delay` v1): param `seconds` is invalid: Input should be greater than or equal to 0 (got -1).",
     "`seconds`: How long to wait."),
    ("demo.delay", {"seconds": "soon"}, "params.seconds",
     "Node `n` (`demo.delay` v1): param `seconds` is invalid: Input should be a valid number, unable to parse "
     "string as a number (got 'soon').", "`seconds`: How long to wait."),
    ("io.input", {"type": "int"}, "params.type",
     "Node `n` (`io.input` v1): param `type` is invalid: Input should be 'string', 'number', 'integer', 'boolean' "
     "or 'json' (got 'int').", "`type`: How the value is parsed and checked."),
    ("demo.router", {"routes": ["a", 1]}, "params.routes.1",
     "Node `n` (`demo.router` v1): param `routes.1` is invalid: Input should be a valid string (got 1).",
     "`routes`: Route names (output ports)."),
    ("test.required_params", {}, "params.url",
     "Node `n` (`test.required_params` v1): param `url` is invalid: Field required.", "Set `url`."),
    ("test.required_params", {"url": "u", "lo": 5, "hi": 1}, "params",
     "Node `n` (`test.required_params` v1): params are invalid: lo must not exceed hi "
     "(got {'hi': 1, 'lo': 5, 'url': 'u'}).",
     "See the component's params in the inspector or `patchwire components --json`."),
    ("io.input", {"nme": "q"}, "params.nme",
     "Node `n` (`io.input` v1): unknown param `nme`. Did you mean `name`?",
     "Remove `nme`. `io.input` params: `name`, `type`, `default`, `description`."),
    ("demo.echo", {"prefx": ">"}, "params.prefx",
     "Node `n` (`demo.echo` v1): unknown param `prefx`. Did you mean `prefix`?",
     "Remove `prefx`. `demo.echo` params: `prefix`."),
    ("demo.join", {"sep": "+"}, "params.sep",
     "Node `n` (`demo.join` v1): unknown param `sep`.", "Remove `sep`. `demo.join` params: none."),
    ("test.aliased", {"max_tokens": 5}, "params.max_tokens",
     "Node `n` (`test.aliased` v1): unknown param `max_tokens`. Did you mean `maxTokens`?",
     "Remove `max_tokens`. `test.aliased` params: `maxTokens`."),
]


@pytest.mark.parametrize(("component_id", "params", "path", "message", "hint"), INVALID_PARAMS,
                         ids=[f"{c[0]}-{c[2]}" for c in INVALID_PARAMS])
def test_invalid_params(registry, component_id, params, path, message, hint):
    issue = only(validate(build([("n", component_id, params)]), registry), "invalid_params")
    assert (issue.node_id, issue.path) == ("n", path)
    assert issue.message == message
    assert issue.hint == hint


def test_params_that_give_no_ports(registry):
    issue = only(validate(build([("n", "test.bad_ports", {"mode": "weird"})]), registry), "invalid_params")
    assert issue.message == "Node `n` (`test.bad_ports` v1): its params do not give valid ports: mode `weird` has no ports"
    assert issue.hint == "Fix the params named in the message."


def test_a_component_whose_ports_are_not_models_is_an_issue_not_a_traceback(registry):
    issue = only(validate(build([("n", "test.bad_ports", {"mode": "broken"})]), registry), "invalid_params")
    assert issue.message == ("Node `n` (`test.bad_ports` v1): its params do not give valid ports: type object 'dict' "
                             "has no attribute 'model_fields'")


def test_params_that_give_a_port_named_error(registry):
    spec = build([("q", "io.input"), ("r", "demo.router", {"routes": ["ok", "error"]})], [("q", "value", "r", "value")])
    issue = only(validate(spec, registry), "invalid_params")
    assert (issue.node_id, issue.port) == ("r", "error")
    assert issue.message == ("Node `r` (`demo.router` v1): its params give a port named `error`, which is reserved "
                             "for the error branch.")
    assert issue.hint == "Rename that port in the params (for a router: the route name)."


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


def test_an_input_default_that_does_not_fit_its_type(registry):
    spec = build([("n", "io.input", {"type": "integer", "default": "seven"}), ("out", "io.output")],
                 [("n", "value", "out", "value")])
    issue = only(validate(spec, registry), "invalid_params")
    assert (issue.node_id, issue.path) == ("n", "params.default")
    assert issue.message == ("Node `n` (`io.input` v1): param `default` does not fit its type `integer`: "
                             "expected an integer, got str 'seven'.")
    assert issue.hint == "Give an integer default, or change the input's `type`."
