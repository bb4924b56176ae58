"""logic.condition (if/elif/else routing) and logic.merge, through `runtime.run` and directly."""

from __future__ import annotations

import time
from typing import Any

import pytest

from components_catalog.logic import ConditionParams, LogicCondition, LogicMerge, MergeParams
from components_catalog.text import TextTemplate
from components_catalog.types import Document
from runtime import NodeFinished, RunContext, execute, run, validate
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.errors import PermanentError
from runtime.registry import Registry
from runtime.testing.components import Delay, Echo
from runtime.testing.specs import make_spec

REGISTRY = Registry([PipelineInput, PipelineOutput, LogicCondition, LogicMerge, TextTemplate, Delay, Echo])

BRANCHES = [
    {"name": "high", "operator": "gt", "value": 0.8, "field": "score"},
    {"name": "german", "operator": "equals", "value": "DE", "field": "metadata.lang", "case_sensitive": False},
]


def routing_spec(branches: list[dict], merge_mode: str = "first"):
    """q -> cond -> one template per port -> merge -> out."""
    cond = {"branches": branches, "else_branch": "other"}
    ports = [b["name"] for b in branches] + ["other"]
    nodes: dict[str, tuple] = {"q": ("io.input", {"type": "json"}), "cond": ("logic.condition", cond)}
    edges = [("q", "value", "cond", "value")]
    for port in ports:
        nodes[f"t_{port}"] = ("text.template", {"template": f"{port}: {{{{ v.score }}}}"})
        edges += [("cond", port, f"t_{port}", "v"), (f"t_{port}", "text", "merge", "values")]
    nodes |= {"merge": ("logic.merge", {"mode": merge_mode}), "out": ("io.output", {})}
    edges.append(("merge", "value" if merge_mode == "first" else "values", "out", "value"))
    return make_spec(nodes, edges)


async def run_events(spec, inputs):
    return [event async for event in execute(spec, inputs, registry=REGISTRY)]


@pytest.mark.parametrize(("value", "fired", "output"), [
    ({"score": 0.9, "metadata": {"lang": "de"}}, "high", "high: 0.9"),
    ({"score": 0.5, "metadata": {"lang": "de"}}, "german", "german: 0.5"),
    ({"score": 0.5, "metadata": {"lang": "fr"}}, "other", "other: 0.5"),
    ({"score": 0.5}, "other", "other: 0.5"),
])
async def test_condition_fires_exactly_one_branch_and_skips_the_others(value, fired, output):
    events = await run_events(routing_spec(BRANCHES), {"q": value})
    finished = {e.node_id: e for e in events if isinstance(e, NodeFinished)}
    skipped = {e.node_id for e in events if e.kind == "node_skipped"}
    assert set(finished["cond"].outputs) == {fired}
    assert finished["cond"].outputs[fired] == value
    assert skipped == {f"t_{p}" for p in ("high", "german", "other") if p != fired}
    assert finished["out"].outputs == {"value": output}
    assert finished["cond"].trace["condition"]["fired"] == fired


async def test_condition_records_why_a_branch_fired():
    events = await run_events(routing_spec(BRANCHES), {"q": {"score": 0.5, "metadata": {"lang": "De"}}})
    cond = next(e for e in events if isinstance(e, NodeFinished) and e.node_id == "cond")
    assert cond.trace["condition"] == {
        "fired": "german", "reason": "`metadata.lang` equals 'DE' holds",
        "checked": [
            {"branch": "high", "condition": "`score` gt 0.8", "subject": "0.5", "holds": False},
            {"branch": "german", "condition": "`metadata.lang` equals 'DE'", "subject": "'De'", "holds": True},
        ]}


async def test_a_connected_payload_is_routed_instead_of_the_tested_value():
    spec = make_spec({"score": ("io.input", {"type": "number"}), "answer": ("io.input", {}),
                      "gate": ("logic.condition", {"branches": [{"name": "good", "operator": "gte", "value": 0.6}],
                                                   "else_branch": "review"}),
                      "good": ("io.output", {}), "review": ("io.output", {})},
                     [("score", "value", "gate", "value"), ("answer", "value", "gate", "payload"),
                      ("gate", "good", "good", "value"), ("gate", "review", "review", "value")])
    high = await run(spec, {"score": 0.9, "answer": "A"}, registry=REGISTRY)
    low = await run(spec, {"score": 0.2, "answer": "B"}, registry=REGISTRY)
    assert (high.outputs, low.outputs) == ({"good": "A"}, {"review": "B"})


async def test_else_records_that_no_branch_held():
    params = ConditionParams(branches=[{"name": "yes", "operator": "equals", "value": 1}])
    ctx = RunContext(run_id="r", node_id="cond", component_id="logic.condition")
    out = await LogicCondition(params).run(LogicCondition.ports(params)[0](value=2), ctx)
    assert out.model_fields_set == {"else"} and out.model_dump()["else"] == 2
    assert ctx.trace["condition"]["fired"] == "else"
    assert ctx.trace["condition"]["reason"] == "no branch holds"


async def fires(branch: dict, value: Any) -> bool:
    params = ConditionParams(branches=[{"name": "hit", **branch}])
    ctx = RunContext(run_id="r", node_id="cond", component_id="logic.condition")
    out = await LogicCondition(params).run(LogicCondition.ports(params)[0](value=value), ctx)
    assert len(out.model_fields_set) == 1
    return out.model_fields_set == {"hit"}


@pytest.mark.parametrize(("branch", "value", "expected"), [
    ({"operator": "equals", "value": "yes"}, "yes", True),
    ({"operator": "equals", "value": "yes"}, "YES", False),
    ({"operator": "equals", "value": "yes", "case_sensitive": False}, "YES", True),
    ({"operator": "equals", "value": 5}, "5", True),
    ({"operator": "equals", "value": 5}, 5.0, True),
    ({"operator": "equals", "value": True}, "True", False),
    ({"operator": "not_equals", "value": "a"}, "b", True),
    ({"operator": "not_equals", "value": "a"}, "a", False),
    ({"operator": "contains", "value": "refund"}, "I want a REFUND", False),
    ({"operator": "contains", "value": "refund", "case_sensitive": False}, "I want a REFUND", True),
    ({"operator": "contains", "value": "b"}, ["a", "b"], True),
    ({"operator": "contains", "value": "lang"}, {"lang": "de"}, True),
    ({"operator": "not_contains", "value": "x"}, "abc", True),
    ({"operator": "regex", "value": r"^order-\d+$"}, "order-42", True),
    ({"operator": "regex", "value": r"^order-\d+$"}, "ORDER-42", False),
    ({"operator": "regex", "value": r"^order-\d+$", "case_sensitive": False}, "ORDER-42", True),
    ({"operator": "regex", "value": "needle"}, "x" * 200_000 + "needle", False),  # past the 100k cap
    ({"operator": "gt", "value": 3}, 4, True),
    ({"operator": "gt", "value": 3}, 3, False),
    ({"operator": "gte", "value": 3}, 3, True),
    ({"operator": "lt", "value": 3}, "2.5", True),
    ({"operator": "lte", "value": 3}, "three", False),
    ({"operator": "lt", "value": 3}, None, False),
    ({"operator": "is_empty"}, "   ", True),
    ({"operator": "is_empty"}, [], True),
    ({"operator": "is_empty"}, None, True),
    ({"operator": "is_empty"}, 0, False),
    ({"operator": "is_not_empty"}, "x", True),
    ({"operator": "is_empty", "field": "missing.path"}, {"a": 1}, True),
    ({"operator": "equals", "value": "b", "field": "items.1"}, {"items": ["a", "b"]}, True),
    ({"operator": "gt", "value": 0.5, "field": "score"}, Document(id="1", text="t", score=0.7), True),
    ({"operator": "equals", "value": "wiki", "field": "metadata.src"},
     Document(id="1", text="t", metadata={"src": "wiki"}), True),
    ({"operator": "is_empty", "field": "__class__"}, Document(id="1", text="t"), True),  # internals: missing
])
async def test_operators(branch, value, expected):
    assert await fires(branch, value) is expected


def cond_issues(params: dict) -> list[str]:
    spec = make_spec({"q": ("io.input", {}), "cond": ("logic.condition", params), "out": ("io.output", {})},
                     [("q", "value", "cond", "value"), ("cond", "else", "out", "value")])
    return [i.message for i in validate(spec, REGISTRY) if i.code == "invalid_params"]


PREFIX = "Node `cond` (`logic.condition` v1): param "


@pytest.mark.parametrize(("params", "message"), [
    ({"branches": [{"name": "1x", "operator": "is_empty"}]},
     "`branches.0.name` is invalid: branch name `1x` is not a valid name: use letters, digits and _, "
     "not starting with a digit"),
    ({"branches": [{"name": "error", "operator": "is_empty"}]},
     "`branches.0.name` is invalid: branch name `error` is reserved for error branches; rename it "
     "(e.g. `error_`)"),
    ({"branches": [{"name": "model_dump", "operator": "is_empty"}]},
     "`branches.0.name` is invalid: branch name `model_dump` clashes with a built-in name; rename it"),
    ({"branches": [{"name": "a", "operator": "is_empty"}, {"name": "a", "operator": "is_not_empty"}]},
     "`branches` is invalid: branch name `a` is used twice; every branch needs its own port name"),
    ({"branches": [{"name": "else", "operator": "is_empty"}]},  # the default else_branch
     "`else_branch` is invalid: `else` is both a branch name and the else_branch; rename one of them"),
    ({"branches": [], "else_branch": "not valid"},
     "`else_branch` is invalid: else_branch `not valid` is not a valid name: use letters, digits and "
     "_, not starting with a digit"),
    ({"branches": [{"name": "big", "operator": "gt", "value": "ten"}]},
     "`branches.0` is invalid: branch `big`: operator `gt` needs a number in `value`, got 'ten'"),
    ({"branches": [{"name": "big", "operator": "lte"}]},
     "`branches.0` is invalid: branch `big`: operator `lte` needs a number in `value`, got None"),
    ({"branches": [{"name": "r", "operator": "regex", "value": "(unclosed"}]},
     "`branches.0` is invalid: branch `r`: the regex '(unclosed' does not compile: missing ), "
     "unterminated subpattern at position 0"),
    ({"branches": [{"name": "r", "operator": "regex", "value": "a" * 501}]},
     "`branches.0` is invalid: branch `r`: operator `regex` needs a pattern of at most 500 characters "
     "in `value`, got 501 characters"),
    ({"branches": [{"name": "r", "operator": "regex", "value": 5}]},
     "`branches.0` is invalid: branch `r`: operator `regex` needs a pattern of at most 500 characters "
     "in `value`, got 5"),
    ({"branches": [{"name": "c", "operator": "contains"}]},
     "`branches.0` is invalid: branch `c`: operator `contains` needs a `value` to look for"),
])
def test_bad_condition_params_are_reported_clearly(params, message):
    issues = cond_issues(params)
    assert len(issues) == 1
    assert issues[0].startswith(PREFIX + message)


def test_condition_ports_follow_the_branches():
    params = ConditionParams(branches=BRANCHES, else_branch="fallback")
    inputs, outputs = LogicCondition.ports(params)
    assert list(inputs.model_fields) == ["value", "payload"]
    assert list(outputs.model_fields) == ["high", "german", "fallback"]
    assert outputs.model_fields["high"].description == "Fires when `score` gt 0.8"
    assert all(f.annotation is Any and not f.is_required() for f in outputs.model_fields.values())


def fan_in_spec(mode: str):
    """Two branches into merge: the first edge's branch is the slow one."""
    return make_spec({"q": ("io.input", {}), "slow": ("demo.delay", {"seconds": 0.05}),
                      "fast": ("demo.echo", {"prefix": "fast:"}), "merge": ("logic.merge", {"mode": mode}),
                      "out": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "fast", "value"),
                      ("slow", "value", "merge", "values"), ("fast", "value", "merge", "values"),
                      ("merge", "value" if mode == "first" else "values", "out", "value")])


async def test_merge_first_takes_the_first_edge_not_the_first_to_finish():
    result = await run(fan_in_spec("first"), {"q": "x"}, registry=REGISTRY)
    assert result.outputs == {"out": "x"}
    assert result.nodes["merge"].outputs == {"value": "x"}


async def test_merge_all_lists_every_value_in_edge_order():
    result = await run(fan_in_spec("all"), {"q": "x"}, registry=REGISTRY)
    assert result.outputs == {"out": ["x", "fast:x"]}
    assert result.nodes["merge"].outputs == {"values": ["x", "fast:x"]}


async def test_merge_all_after_a_condition_gets_only_the_branch_that_fired():
    result = await run(routing_spec(BRANCHES, merge_mode="all"), {"q": {"score": 0.95}}, registry=REGISTRY)
    assert result.outputs == {"out": ["high: 0.95"]}


async def test_merge_first_with_no_values_fails_clearly():
    ctx = RunContext(run_id="r", node_id="merge", component_id="logic.merge")
    with pytest.raises(PermanentError) as err:
        await LogicMerge(MergeParams()).run(LogicMerge.info.inputs_model(values=[]), ctx)
    assert str(err.value) == ("Node `merge` (`logic.merge`, mode first) received no values. Connect the branches "
                              "to `values`, or use mode `all` to accept an empty list.")
    out = await LogicMerge(MergeParams(mode="all")).run(LogicMerge.info.inputs_model(values=[]), ctx)
    assert out.model_fields_set == {"values"} and out.values == []


async def test_a_catastrophic_regex_fails_the_node_instead_of_freezing_the_run():
    spec = make_spec({"q": ("io.input", {}),
                      "cond": ("logic.condition", {"branches": [{"name": "r", "operator": "regex", "value": "^(a|aa)+$"}]}),
                      "out": ("io.output", {})},
                     [("q", "value", "cond", "value"), ("cond", "r", "out", "value")])
    started = time.perf_counter()
    result = await run(spec, {"q": "a" * 5000 + "!"}, registry=REGISTRY)
    assert time.perf_counter() - started < 5
    assert result.nodes["cond"].error["type"] == "PermanentError"
    assert result.nodes["cond"].error["message"].startswith(
        "branch `r`: the regex /^(a|aa)+$/ took longer than 1 s on this input (5001 characters)")
