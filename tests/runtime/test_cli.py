"""`patchwire` as a user runs it: a real subprocess, real files, exit codes and output text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.testing.specs import make_spec
from tests.timing import children_cpu, fastest

# The console script `pip install -e .` put next to the interpreter: what users type.
PATCHWIRE = [str(Path(sys.executable).with_name("patchwire"))]
SAMPLES = ["--plugin", "runtime.testing.components"]


def patchwire(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PATCHWIRE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def diamond(tmp_path: Path) -> Path:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "n": ("io.input", {"type": "integer", "default": 1}),
                      "slow": ("demo.delay", {"seconds": 0.05}), "fast": ("demo.echo", {"prefix": "f:"}),
                      "join": ("demo.join", {}), "out": ("io.output", {}), "count": ("io.output", {})},
                     [("q", "value", "slow", "value"), ("q", "value", "fast", "value"),
                      ("slow", "value", "join", "a"), ("fast", "value", "join", "b"),
                      ("join", "value", "out", "value"), ("n", "value", "count", "value")], name="diamond")
    path = tmp_path / "diamond.json"
    path.write_text(spec.model_dump_json(indent=2))
    return path


def test_run_json_prints_exactly_one_object_with_the_documented_shape(diamond: Path):
    proc = patchwire("run", str(diamond), "--input", "query=hello", "--input", "n=7", "--json", *SAMPLES)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"run_id", "status", "latency_ms", "outputs", "error", "nodes", "egress"}  # issue #13
    assert result["status"] == "succeeded"
    assert result["outputs"] == {"out": "hello+f:hello", "count": 7}
    assert set(result["nodes"]) == {"q", "n", "slow", "fast", "join", "out", "count"}
    slow = result["nodes"]["slow"]
    assert set(slow) == {"status", "latency_ms", "attempts", "outputs", "error", "skip_reason", "egress"}
    assert slow["status"] == "succeeded" and slow["latency_ms"] >= 50 and slow["attempts"] == 1
    assert slow["outputs"] == {"value": "hello"} and slow["error"] is None
    assert result["latency_ms"] < 50 + 200, "branches did not overlap"


def test_run_prints_progress_per_node_and_the_outputs(diamond: Path):
    proc = patchwire("run", str(diamond), "--input", "query=hi", *SAMPLES)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["out: hi+f:hi", "count: 1"]
    progress = [line.split()[:2] for line in proc.stderr.splitlines() if line.startswith("  ")]
    assert ["ok", "slow"] in progress and ["ok", "join"] in progress
    assert [p[1] for p in progress].index("fast") < [p[1] for p in progress].index("slow")


def test_inputs_json_passes_values_as_they_are(diamond: Path):
    proc = patchwire("run", str(diamond), "--inputs-json", '{"query": "x", "n": 3}', "--json", *SAMPLES)
    assert json.loads(proc.stdout)["outputs"] == {"out": "x+f:x", "count": 3}


@pytest.mark.parametrize("args, message", [
    ([], "error: Input `query` is required: pass it with `--input query=...` (or give the io.input node a "
         "`default`)."),
    (["--input", "query=x", "--input", "n=seven"], "error: Input `n`: expected an integer, got 'seven'."),
    (["--input", "query=x", "--input", "nope=1"], "error: Unknown input `nope`; this pipeline's inputs: "
                                                  "`query`, `n`."),
    (["--input", "query"], "error: --input 'query' must look like name=value."),
    (["--inputs-json", "[1]"], "error: --inputs-json must be a JSON object"),
    (["--inputs-json", '{"query": 5}'], "error: Input `query`: expected a string, got int 5."),
])
def test_bad_inputs_exit_2_with_a_clear_message(diamond: Path, args: list[str], message: str):
    proc = patchwire("run", str(diamond), *args, *SAMPLES)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--input", "f=nan"], "error: Input `f`: expected a finite number, got 'nan'."),
    (["--input", "f=1e400"], "error: Input `f`: expected a finite number, got '1e400'."),
    (["--inputs-json", '{"f": -Infinity}'], "error: Input `f`: expected a finite number, got float -inf."),
    (["--inputs-json", '{"f": 1' + "0" * 400 + "}"],
     "error: Input `f`: expected a finite number, got int 1000000000000000000000000000000000000...."),
])
def test_a_number_input_refuses_nan_and_infinity(tmp_path: Path, args: list[str], message: str):
    """`run --json` promises one JSON object: a NaN input would come out as `NaN`, which is not JSON."""
    spec = make_spec({"f": ("io.input", {"type": "number"}), "out": ("io.output", {})}, [("f", "value", "out", "value")])
    path = tmp_path / "number.json"
    path.write_text(spec.model_dump_json())
    proc = patchwire("run", str(path), *args, "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == message
    assert json.loads(patchwire("run", str(path), "--input", "f=2.5", "--json").stdout)["outputs"] == {"out": 2.5}


def test_a_failed_run_exits_1_and_names_the_node(tmp_path: Path):
    spec = make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "it broke"}),
                      "out": ("io.output", {})},
                     [("q", "value", "boom", "value"), ("boom", "value", "out", "value")])
    path = tmp_path / "fail.json"
    path.write_text(spec.model_dump_json())
    proc = patchwire("run", str(path), "--input", "q=x", "--json", *SAMPLES)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["status"] == "failed"
    assert result["nodes"]["boom"]["error"] == {"type": "ValueError", "message": "it broke"}
    assert result["nodes"]["out"]["status"] == "cancelled"
    human = patchwire("run", str(path), "--input", "q=x", *SAMPLES)
    assert "FAILED   boom" in human.stderr and "error: Node `boom` failed: it broke" in human.stderr


def test_an_invalid_spec_exits_2_listing_every_issue(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "bad", "nodes": [
        {"id": "a", "component": "demo.nope"}, {"id": "b", "component": "io.output"}]}))
    proc = patchwire("run", str(path), *SAMPLES)
    assert proc.returncode == 2
    assert "error [a]: Unknown component `demo.nope` on node `a`." in proc.stderr
    assert "error [b.value]: Node `b` (`io.output` v1): required input `value` is not connected" in proc.stderr
    check = patchwire("validate", str(path), "--json", *SAMPLES)
    assert check.returncode == 2
    report = json.loads(check.stdout)
    assert report["valid"] is False
    assert {i["code"] for i in report["issues"]} == {"unknown_component", "required_input_unconnected"}


def test_validate_ok_exits_0(diamond: Path):
    proc = patchwire("validate", str(diamond), *SAMPLES)
    assert proc.returncode == 0
    assert f"ok: `{diamond}` is valid" in proc.stdout


def test_a_broken_plugin_is_reported_not_swallowed(diamond: Path, tmp_path: Path):
    plugin = tmp_path / "broken_plugin.py"
    plugin.write_text("import not_a_real_module\n")
    proc = patchwire("validate", str(diamond), "--plugin", str(plugin), *SAMPLES)
    assert proc.returncode == 0
    assert f"warning: plugin `{plugin}` failed to load: ModuleNotFoundError: No module named " \
           "'not_a_real_module'" in proc.stderr


def test_plugins_load_from_the_environment_variable(diamond: Path):
    proc = patchwire("run", str(diamond), "--input", "query=env", "--json",
                     env={"PATCHWIRE_PLUGINS": "runtime.testing.components"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"]["out"] == "env+f:env"


def test_schema_prints_the_spec_json_schema():
    proc = patchwire("schema")
    schema = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert {"nodes", "edges", "name", "layout"} <= set(schema["properties"])


def test_a_reader_that_stops_reading_is_not_an_internal_error():
    """`patchwire schema | head -1`: the pipe closes early; that is the reader's choice, not a crash."""
    proc = subprocess.Popen([*PATCHWIRE, "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    assert proc.stderr.read() == ""
    assert proc.wait(timeout=60) == 1


def test_components_lists_the_builtins():
    proc = patchwire("components", "--json")
    ids = {c["id"] for c in json.loads(proc.stdout)["components"]}
    assert {"io.input", "io.output"} <= ids


def test_run_without_a_model_node_is_fast_and_imports_no_heavy_stack(diamond: Path, tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom runtime.cli import main\ncode = main(sys.argv[1:])\n"
        "heavy = sorted(m for m in ('litellm', 'chromadb', 'reflex', 'onnxruntime') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\nsys.exit(code)\n")
    from runtime.store.schema import prepare_database

    prepare_database()  # the schema is created once per database, by the first run: not what this measures
    # CPU, not wall-clock, seconds: a loaded machine makes the run wait for a core, not do more work (1.1-1.2 s on
    # a quiet one, up to 1.5 s while the other core is busy). Importing litellm alone costs ~7 s.
    proc, cpu = fastest(lambda: subprocess.run(
        [sys.executable, str(probe), "run", str(diamond), "--input", "query=x", *SAMPLES],
        capture_output=True, text=True, timeout=60), bound=2.0, clock=children_cpu)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    assert cpu < 2.0, f"patchwire run used {cpu:.2f} s of CPU"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", [["eval", "SUITE", "--quiet"], ["eval", "compare", "a", "b"], ["runs", "stats"],
                                     ["runs", "prune", "--retention", "30d"]])
def test_commands_that_use_the_database_name_one_that_is_down_without_an_internal_error(
        command: list[str], diamond: Path, tmp_path: Path):
    suite = tmp_path / "suite.yaml"
    (tmp_path / "rows.jsonl").write_text('{"query": "a"}\n')
    suite.write_text(f"name: s\npipeline: {diamond}\ndataset: rows.jsonl\n"
                     "assertions:\n  - {name: ran, node: out, type: fired}\n")
    port = _closed_port()
    url = f"postgresql+psycopg://patchwire:pw-do-not-show-41@127.0.0.1:{port}/patchwire"
    args = [str(suite) if arg == "SUITE" else arg for arg in command] + (SAMPLES if command[0] == "eval" else [])
    done = patchwire(*args, env={"DATABASE_URL": url})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: Cannot reach the database at 127.0.0.1:{port} (Connection refused). Is the server running, and are "
        "the host and port in DATABASE_URL right?")
    assert "internal error" not in done.stderr and "pw-do-not-show-41" not in done.stdout + done.stderr
