"""`export-python` of subflows: the generated asyncio code gives the outputs `patchwire run` gives."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from runtime import api
from runtime.export.python import generate_python
from runtime.testing.flows import PROBES, flow_registry, sub_spec, with_subflows

EACH = sub_spec("each", {"doc": ("io.input", {}), "prefix": ("io.input", {"default": "s:"}),
                         "work": ("demo.fail_on", {"value": "bad"}), "probe": ("demo.probe", {"key": "export"}),
                         "summary": ("io.output", {})},
                [("doc.value", "work.value"), ("work.value", "probe.value"), ("probe.value", "summary.value")])
GROW = sub_spec("grow", {"text": ("io.input", {}), "e": ("demo.echo", {"prefix": "+"}), "n": ("demo.length", {}),
                         "grown": ("io.output", {}), "size": ("io.output", {})},
                [("text.value", "e.value"), ("e.value", "grown.value"), ("e.value", "n.value"), ("n.n", "size.value")])


def spec(mode: str):
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}), "q": ("io.input", {}),
                             "m": ("flow.map", {"subflow": "each", "over": "doc", "concurrency": 3,
                                                "on_item_error": mode}),
                             "loop": ("flow.loop", {"subflow": "grow", "max_iterations": 5, "carry": {"grown": "text"},
                                                    "until": {"output": "size", "operator": "gte", "value": 3}}),
                             "out": ("io.output", {}), "errors": ("io.output", {}), "grown": ("io.output", {}),
                             "iterations": ("io.output", {}), "why": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value"), ("m.errors", "errors.value"),
                     ("q.value", "loop.text"), ("loop.grown", "grown.value"), ("loop.iterations", "iterations.value"),
                     ("loop.stopped_by", "why.value")])
    return with_subflows(main, each=EACH, grow=GROW)


def load(code: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", ["skip", "null"])
async def test_map_and_loop_export_gives_the_same_outputs(tmp_path, mode):
    the_spec, registry = spec(mode), flow_registry()
    inputs = {"docs": [f"d{i}" for i in range(7)] + ["bad", "z"], "q": "a"}
    want = await api.run(the_spec, inputs, registry=registry)
    code = generate_python(the_spec, registry)
    assert "async def subflow_each(run: Run" in code and "async def subflow_grow(run: Run" in code
    assert "asyncio.Semaphore(concurrency)" in code and "for iteration in range(1, max_iterations + 1):" in code
    PROBES.clear()
    got = await load(code, tmp_path, f"flow_export_{mode}").run_pipeline(inputs)
    assert got == want.outputs
    assert got["iterations"] == 2 and got["why"] == "condition"
    assert PROBES["export"].peak == 3  # the exported map keeps the concurrency cap


async def test_a_failing_item_fails_the_exported_run_with_the_same_message(tmp_path):
    the_spec, registry = spec("fail"), flow_registry()
    inputs = {"docs": ["a", "bad"], "q": "a"}
    want = await api.run(the_spec, inputs, registry=registry)
    module = load(generate_python(the_spec, registry), tmp_path, "flow_export_fail")
    with pytest.raises(module.NodeFailed) as failed:
        await module.run_pipeline(inputs)
    assert str(failed.value) == want.error["message"] == (
        "Node `m` failed: item 1 failed at `work`: ValueError: refusing 'bad'")
    assert (failed.value.node, failed.value.detail) == ("m", "item 1 failed at `work`: ValueError: refusing 'bad'")
    item = failed.value.__cause__  # the item's failure, read from the inner step's data (not its message)
    assert item.as_error() == {"index": 1, "node": "work", "type": "ValueError", "message": "refusing 'bad'"}


SLOW = sub_spec("slow", {"doc": ("io.input", {}), "wait": ("demo.slow_first_runs", {"key": "export-policy",
                                                                                      "slow_runs": 2}),
                         "summary": ("io.output", {})}, [("doc.value", "wait.value"), ("wait.value", "summary.value")])
HANG = sub_spec("hang", {"text": ("io.input", {}), "wait": ("demo.delay", {"seconds": 30}), "grown": ("io.output", {})},
                [("text.value", "wait.value"), ("wait.value", "grown.value")])
RETRY_ONCE = {"timeout_s": 0.5, "retries": 1, "retry_backoff_s": 0}


def policy_spec():
    """A map whose first attempt times out (its first two items hang) and whose retry succeeds; a loop that
    times out on both attempts, its error handled; a subflow node that times out, failing the run."""
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}), "q": ("io.input", {}),
                             "m": ("flow.map", {"subflow": "slow", "over": "doc", "concurrency": 2}, RETRY_ONCE),
                             "loop": ("flow.loop", {"subflow": "hang", "max_iterations": 2},
                                      {"timeout_s": 0.2, "retries": 1, "retry_backoff_s": 0, "on_error": "continue"}),
                             "out": ("io.output", {}), "loop_error": ("io.output", {})},
                    [("docs.value", "m.items"), ("m.summary", "out.value"), ("q.value", "loop.text"),
                     ("loop.error", "loop_error.value")])
    return with_subflows(main, slow=SLOW, hang=HANG)


async def test_the_flow_nodes_own_timeout_and_retries_are_exported(tmp_path):
    from runtime.testing.flows import SLOW_RUNS

    the_spec, registry = policy_spec(), flow_registry()
    inputs = {"docs": ["a", "b", "c"], "q": "x"}
    SLOW_RUNS.clear()
    want = await api.run(the_spec, inputs, registry=registry)
    assert want.status == "succeeded", want.error
    assert want.nodes["m"].attempts == 2 and want.outputs["out"] == ["a", "b", "c"]
    assert want.outputs["loop_error"] == {"node": "loop", "component": "flow.loop", "type": "TimeoutError",
                                          "message": "timed out after 0.2 s (policy.timeout_s)", "attempts": 2}
    code = generate_python(the_spec, registry)
    assert "timeout_s=0.5,\n            retries=1," in code and "lambda: run_map(" in code
    assert generate_python(the_spec, registry, formatter=None) == code  # laid out as ruff lays it out
    SLOW_RUNS.clear()
    got = await load(code, tmp_path, "flow_export_policy").run_pipeline(inputs)
    assert got == want.outputs
    assert SLOW_RUNS["export-policy"] == 2 + 3  # the retry ran the whole map again


async def test_a_subflow_node_timeout_fails_the_exported_run_with_the_same_message(tmp_path):
    main = sub_spec("main", {"q": ("io.input", {}), "s": ("flow.subflow", {"subflow": "hang"}, {"timeout_s": 0.2}),
                             "out": ("io.output", {})}, [("q.value", "s.text"), ("s.grown", "out.value")])
    the_spec, registry = with_subflows(main, hang=HANG), flow_registry()
    want = await api.run(the_spec, {"q": "x"}, registry=registry)
    module = load(generate_python(the_spec, registry), tmp_path, "flow_export_subflow_timeout")
    with pytest.raises(module.NodeFailed) as failed:
        await module.run_pipeline({"q": "x"})
    assert str(failed.value) == want.error["message"] == "Node `s` failed: timed out after 0.2 s (policy.timeout_s)"
