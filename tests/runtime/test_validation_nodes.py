"""`validate()`: the issues of single nodes (ids, components, versions, params and the ports they give)."""

from __future__ import annotations

import pytest

from runtime import Component, PipelineSpec, RunContext, component, validate
from runtime.registry import LoadProblem
from tests.runtime.validation_kit import (
    EchoV2,
    Empty,
    Out,
    build,
    codes,
    only,
    with_test_components,
)


@pytest.fixture
def registry(registry):
    return with_test_components(registry)


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


def test_an_input_default_that_does_not_fit_its_type(registry):
    spec = build([("n", "io.input", {"type": "integer", "default": "seven"}), ("out", "io.output")],
                 [("n", "value", "out", "value")])
    issue = only(validate(spec, registry), "invalid_params")
    assert (issue.node_id, issue.path) == ("n", "params.default")
    assert issue.message == ("Node `n` (`io.input` v1): param `default` does not fit its type `integer`: "
                             "expected an integer, got str 'seven'.")
    assert issue.hint == "Give an integer default, or change the input's `type`."
