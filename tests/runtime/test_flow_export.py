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
