"""`flow.loop`: stopping by condition or by `max_iterations`, carrying outputs into the next iteration."""

from __future__ import annotations

import pytest

from runtime import api
from runtime.results import ResultCollector
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

GROW = sub_spec("grow", {"text": ("io.input", {}), "e": ("demo.echo", {"prefix": "+"}), "n": ("demo.length", {}),
                         "grown": ("io.output", {}), "size": ("io.output", {})},
                [("text.value", "e.value"), ("e.value", "grown.value"), ("e.value", "n.value"), ("n.n", "size.value")])


def looped(**params) -> object:
    main = sub_spec("main", {"q": ("io.input", {}),
                             "loop": ("flow.loop", {"subflow": "grow", "carry": {"grown": "text"}, **params}),
                             "text": ("io.output", {}), "iterations": ("io.output", {}), "why": ("io.output", {})},
                    [("q.value", "loop.text"), ("loop.grown", "text.value"), ("loop.iterations", "iterations.value"),
                     ("loop.stopped_by", "why.value")])
    return with_subflows(main, grow=GROW)


async def run(spec, inputs):
    collector, events = ResultCollector(), []
    await api.execute(api.compile(spec, flow_registry()), inputs).consume(collector, events.append)
    return collector.result, events


async def test_loop_stops_by_condition():
    result, events = await run(looped(max_iterations=10, until={"output": "size", "operator": "gte", "value": 4}),
                               {"q": "a"})
    assert result.outputs == {"text": "+++a", "iterations": 3, "why": "condition"}
    paths = [e.node_path for e in events if e.kind == "node_finished" and e.node_path and e.node_path[2] == "e"]
    assert paths == [["loop", 0, "e"], ["loop", 1, "e"], ["loop", 2, "e"]]


async def test_loop_stops_by_max_iterations():
    result, _ = await run(looped(max_iterations=2, until={"output": "size", "operator": "gte", "value": 100}),
                          {"q": "a"})
    assert result.outputs == {"text": "++a", "iterations": 2, "why": "max_iterations"}


async def test_loop_without_until_runs_max_iterations():
    result, _ = await run(looped(max_iterations=5), {"q": ""})
    assert result.outputs == {"text": "+++++", "iterations": 5, "why": "max_iterations"}


@pytest.mark.parametrize(("operator", "value", "iterations"), [
    ("equals", "+++x", 3), ("contains", "++", 2), ("regex", r"^\+{4}", 4), ("not_contains", "x", 5),
    ("is_not_empty", None, 1), ("lt", 3, 1), ("gt", 3, 3)])
async def test_until_takes_every_condition_operator(operator, value, iterations):
    output = "size" if operator in ("lt", "gt") else "grown"
    result, _ = await run(looped(max_iterations=5, until={"output": output, "operator": operator, "value": value}),
                          {"q": "x"})
    assert result.outputs["iterations"] == iterations


async def test_a_failing_iteration_fails_the_loop_naming_it():
    failing = sub_spec("grow", {"text": ("io.input", {}), "e": ("demo.echo", {"prefix": "+"}),
                                "f": ("demo.fail_on", {"value": "++a"}), "grown": ("io.output", {}),
                                "size": ("io.output", {})},
                       [("text.value", "e.value"), ("e.value", "f.value"), ("f.value", "grown.value"),
                        ("e.value", "size.value")])
    spec = looped(max_iterations=5)
    spec = spec.model_copy(update={"subflows": {"grow": type(spec).model_validate(failing)}})
    result, _ = await run(spec, {"q": "a"})
    assert result.status == "failed"
    assert result.nodes["loop"].error["message"] == "iteration 1 failed at `f`: ValueError: refusing '++a'"
