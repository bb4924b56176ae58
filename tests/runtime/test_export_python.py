"""`patchwire export-python`: plain asyncio code that gives the same outputs as `patchwire run`."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import py_compile
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic_core import to_jsonable_python

from runtime import Component, RunContext, component, run
from runtime.export.python import CodegenError, generate_python
from runtime.loading import load_spec
from runtime.registry import default_registry
from runtime.testing.components import TextValue, sample_registry
from runtime.testing.specs import make_spec

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted((ROOT / "templates").glob("*.json"))
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
RUFF = Path(sys.executable).with_name("ruff")
FORBIDDEN = {"runtime.executor", "runtime.api", "runtime.plan", "runtime.progress", "runtime.results"}

PLUGIN = '''
from pydantic import BaseModel
from runtime import Component, RunContext, component


class Text(BaseModel):
    value: str


class Items(BaseModel):
    items: list[str]


@component(id="gen.split", version=1, title="Split")
class Split(Component):
    """Split the text into words (a list output: spread into a fan-in list)."""

    async def run(self, inputs: Text, ctx: RunContext) -> Items:
        return Items(items=inputs.value.split())
'''

# Router skip, an optional input, a fan-in list (item and spread edges, an io.input among them), retries,
# a timeout and a failure that are handled (error branch / on_error=continue), a skipped dependent.
SHAPES = ({
    "q": ("io.input", {"name": "query"}), "n": ("io.input", {"type": "integer", "default": 1}),
    "route": ("demo.router", {"routes": ["a", "b"]}),
    "slow": ("demo.delay", {"seconds": 0.01}, {"timeout_s": 5}),
    "fast": ("demo.echo", {"prefix": "f:"}),
    "flaky": ("demo.fail_n_times", {"failures": 2}, {"retries": 2, "retry_backoff_s": 0}),
    "split": ("gen.split", {}),
    "join": ("demo.join", {}), "cat": ("demo.concat", {}),
    "boom": ("demo.raise", {"message": "bad luck", "permanent": True}),
    "after_boom": ("demo.echo", {}),
    "stuck": ("demo.delay", {"seconds": 5}, {"timeout_s": 0.05, "on_error": "continue"}),
    "after_stuck": ("demo.echo", {}),
    "out": ("io.output", {}), "count": ("io.output", {}), "all": ("io.output", {}),
    "boom_error": ("io.output", {}), "after": ("io.output", {}), "stuck_out": ("io.output", {}),
}, [
    ("q", "value", "route", "value"), ("route", "a", "slow", "value"), ("route", "b", "fast", "value"),
    ("q", "value", "flaky", "value"), ("q", "value", "split", "value"), ("q", "value", "boom", "value"),
    ("q", "value", "stuck", "value"), ("stuck", "value", "after_stuck", "value"),
    ("slow", "value", "join", "a"), ("fast", "value", "join", "b"),
    ("slow", "value", "cat", "values"), ("flaky", "value", "cat", "values"), ("split", "items", "cat", "values"),
    ("q", "value", "cat", "values"), ("boom", "value", "after_boom", "value"),
    ("join", "value", "out", "value"), ("n", "value", "count", "value"), ("cat", "value", "all", "value"),
    ("boom", "error", "boom_error", "value"), ("after_boom", "value", "after", "value"),
    ("after_stuck", "value", "stuck_out", "value"),
])


@pytest.fixture
def shapes(tmp_path: Path):
    plugin = tmp_path / "gen_plugin.py"
    plugin.write_text(PLUGIN)
    registry = sample_registry()
    registry.load_plugin(str(plugin))
    assert registry.problems == []
    spec = make_spec(*SHAPES, name="shapes")
    code = generate_python(spec, registry, source="shapes.json")
    path = tmp_path / "pipeline.py"
    path.write_text(code)
    return spec, registry, path, plugin


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def imported_modules(code: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module or "")
            if node.module == "runtime":
                assert {a.name for a in node.names} <= {"RunContext"}, "only the component contract from runtime"
    return modules


@pytest.mark.parametrize("query", ["a", "b"])
async def test_generated_code_reproduces_the_runtime_on_every_graph_shape(shapes, query: str):
    spec, registry, path, _ = shapes
    module = load_module(path)
    expected = (await run(spec, {"query": query}, registry=registry)).to_json()["outputs"]
    got = to_jsonable_python(await module.run_pipeline({"query": query}), fallback=repr)  # `n`: its default
    assert got == expected
    assert "after" not in got and "stuck_out" not in got  # skipped after handled failures
    assert got["boom_error"] == {"node": "boom", "component": "demo.raise", "type": "PermanentError",
                                 "message": "bad luck", "attempts": 1}
    assert got["all"].startswith(("a|", "b (attempt 3)|")) and got["all"].endswith(f"|{query}|{query}")
    assert ("out" in got) == (query == "a")  # route b: `slow` is skipped, so `join` (needs `a`) is too


def test_generated_code_compiles_imports_no_executor_and_is_formatted(shapes):
    _, _, path, plugin = shapes
    py_compile.compile(str(path), doraise=True)
    code = path.read_text()
    assert not imported_modules(code) & FORBIDDEN
    assert "execute(" not in code and "runtime.run" not in code
    assert code.startswith('"""Pipeline `shapes`.\n\nGenerated by `patchwire export-python` from `shapes.json`')
    assert "It needs `pip install patchwire` only for the component classes" in code
    assert "_plugin_1 = load_plugin_file(" in code and f'"{plugin}"' in code  # a plugin file, by its path
    assert "asyncio.wait_for(" in code and "retries=2, backoff_s=0.0" in code
    assert 'if "a" not in route_out:\n            return {}' in code  # the branch, as an if
    if RUFF.is_file():
        check = subprocess.run([str(RUFF), "format", "--isolated", "--line-length", "100", "--check", str(path)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_without_ruff_the_code_is_already_laid_out_the_same_way(shapes):
    spec, registry, path, _ = shapes
    assert generate_python(spec, registry, source="shapes.json", formatter=None) == path.read_text()


def test_main_reads_inputs_like_the_cli_and_prints_the_same_outputs_without_the_executor(shapes):
    spec, _, path, plugin = shapes
    spec_file = path.with_name("shapes.json")
    spec_file.write_text(spec.model_dump_json())
    cli = subprocess.run([PATCHWIRE, "run", str(spec_file), "--input", "query=a", "--input", "n=7", "--json",
                          "--plugin", "runtime.testing.components", "--plugin", str(plugin)],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    proc = run_generated([(path, ["--input", "query=a", "--input", "n=7"])])
    assert proc[0]["code"] == 0, proc
    assert json.loads(proc[0]["stdout"]) == json.loads(cli.stdout)["outputs"]
    assert proc[0]["executor_loaded"] is False
    bad = run_generated([(path, ["--input", "n=x"])])[0]
    assert bad["code"] == 2
    assert bad["stderr"] == ("error: Input `n`: expected an integer, got 'x'. Input `query` is required: pass "
                             "it with `--input query=...`.\n")


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e400"])
def test_generated_input_parsing_refuses_nan_and_infinity_like_the_cli(text: str):
    from runtime.builtins import coerce_input_text
    from runtime.export.python.prelude import MAIN

    namespace: dict = {}
    exec("import json\nfrom typing import Any\n" + MAIN.split("\ndef parse_inputs", 1)[0], namespace)
    with pytest.raises(ValueError) as generated:
        namespace["parse_value"]("number", text)
    with pytest.raises(ValueError) as cli:
        coerce_input_text("number", text)
    assert str(generated.value) == str(cli.value) == f"expected a finite number, got {text!r}"
    assert namespace["parse_value"]("number", "2.5") == 2.5


RUNNER = textwrap.dedent('''
    import contextlib, io, json, runpy, sys
    results = []
    for path, argv in json.loads(sys.argv[1]):
        sys.argv = [path, *argv]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(path, run_name="__main__")
                code = 0
            except SystemExit as exc:
                code = exc.code
        results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                        "executor_loaded": "runtime.executor" in sys.modules})
    print(json.dumps(results))
''')


def run_generated(calls: list[tuple[Path, list[str]]]) -> list[dict]:
    """Run generated modules' `main()` in one fresh interpreter; report whether the executor was loaded."""
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps([(str(p), a) for p, a in calls])],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_component_that_cannot_be_imported_by_name_is_a_clear_error():
    @component(id="local.thing", version=1)
    class Thing(Component):
        async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
            return inputs

    registry = sample_registry()
    registry.add(Thing)
    spec = make_spec({"q": ("io.input", {}), "t": ("local.thing", {}), "out": ("io.output", {})},
                     [("q", "value", "t", "value"), ("t", "value", "out", "value")])
    with pytest.raises(CodegenError, match=r"Node `t`: component class `test_a_component_that_cannot_be_imported_by_"
                                           r"name_is_a_clear_error.<locals>.Thing` .* cannot be imported by name"):
        generate_python(spec, registry)


def test_cli_writes_the_module(tmp_path: Path):
    spec = make_spec({"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": "> "}),
                      "out": ("io.output", {})}, [("q", "value", "e", "value"), ("e", "value", "out", "value")])
    spec_file = tmp_path / "echo.json"
    spec_file.write_text(spec.model_dump_json())
    out = tmp_path / "echo.py"
    proc = subprocess.run([PATCHWIRE, "export-python", str(spec_file), "-o", str(out), "--plugin",
                           "runtime.testing.components"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"ok: wrote `{out}`; run it with `python {out} --input name=value`" in proc.stderr
    assert "Run it:    python echo.py --input query=...\n" in out.read_text()
    done = subprocess.run([sys.executable, str(out), "--input", "query=hi"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"out": "> hi"}


# --- the shipped templates (deterministic offline: local model, demo knowledge base) --------------------
TEMPLATE_QUERIES = {"rag_review": ["How does Patchwire run independent branches?",
                                   "What is the boiling point of mercury on Venus?"],
                    "router": ["How do I add a component to a pipeline?", "hello, thank you!"],
                    "best_of_two": ["How does Patchwire cache node outputs?"],
                    # a map over the retrieved documents; a loop that answers or (after 3 tries) asks a human
                    "map_summarise": ["How does Patchwire run independent branches?"],
                    "refine_loop": ["How does Patchwire run independent branches?",
                                    "What is the boiling point of mercury on Venus?"]}


@pytest.fixture(scope="module")
def templates_exported(tmp_path_factory):
    from components_catalog.demo_index import index_demo_kb

    index_demo_kb()
    folder = tmp_path_factory.mktemp("templates")
    paths = {}
    for path in TEMPLATES:
        code = generate_python(load_spec(path), default_registry(), source=f"templates/{path.name}")
        paths[path.stem] = folder / f"{path.stem}.py"
        paths[path.stem].write_text(code)
    return paths


def test_every_template_has_queries_here():
    assert set(TEMPLATE_QUERIES) == {p.stem for p in TEMPLATES}


async def test_templates_exported_to_python_reproduce_patchwire_run(templates_exported):
    calls, expected = [], []
    for stem, queries in TEMPLATE_QUERIES.items():
        path = templates_exported[stem]
        py_compile.compile(str(path), doraise=True)
        assert not imported_modules(path.read_text()) & FORBIDDEN
        plan_spec = load_spec(ROOT / "templates" / f"{stem}.json")
        for query in queries:
            result = await run(plan_spec, {"query": query}, registry=default_registry())
            assert result.status == "succeeded", (stem, query, result.to_json())
            expected.append(result.to_json()["outputs"])
            calls.append((path, ["--input", f"query={query}"]))
    # Both branches of each template's router/condition are exercised.
    assert "answer" in expected[0] and "review_task" in expected[1] and "answer" not in expected[1]
    assert [expected[2]["chosen_route"], expected[3]["chosen_route"]] == ["docs", "smalltalk"]
    results = run_generated(calls)
    for (path, argv), got, want in zip(calls, results, expected, strict=True):
        assert got["code"] == 0, (path.name, got["stderr"])
        outputs = json.loads(got["stdout"])
        if "review_task" in want:  # a new review task per run: its id differs, its kind does not
            assert re.fullmatch(r"[0-9a-f]{32}", outputs.pop("review_task")), outputs
            want.pop("review_task")
        assert outputs == want, (path.name, argv)
    assert results[-1]["executor_loaded"] is False
    assert os.environ["PATCHWIRE_DATA_DIR"]  # the subprocess used the test data directory
