"""`patchwire eval` end to end on the sample components: report shape, mocks, exit codes, baseline, compare,
publish gate, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from runtime.cli import main
from runtime.testing.specs import make_spec

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
SAMPLES = ["--plugin", "runtime.testing.components"]


def write_case(tmp_path: Path, prefix: str = "> ", extra: str = "", rows: list[dict] | None = None) -> Path:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "echo": ("demo.echo", {"prefix": prefix}),
                      "router": ("demo.router", {"routes": ["a", "b"]}), "out": ("io.output", {})},
                     [("q", "value", "echo", "value"), ("echo", "value", "out", "value"),
                      ("q", "value", "router", "value")], name="echo")
    (tmp_path / f"pipe{prefix.strip() or 'x'}.json").write_text(spec.model_dump_json())
    rows = rows if rows is not None else [
        {"id": "r1", "question": "a", "want": "> a"}, {"id": "r2", "question": "b", "want": "> b"},
        {"id": "r3", "question": "zz", "want": "MOCKED", "mocks": {"echo": {"value": "MOCKED"}}}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "suite.yaml").write_text(f"""
name: echo-suite
pipeline: pipe{prefix.strip() or 'x'}.json
dataset: rows.jsonl
inputs: {{query: question}}
assertions:
  - {{name: echoed, node: echo, port: value, type: equals, column: want}}
  - {{name: ran, node: out, type: fired}}
  - {{name: fast, type: latency_ms_lte, value: 60000}}
{extra}""")
    return tmp_path / "suite.yaml"


def run_eval(suite: Path, *args: str) -> int:
    return main(["eval", str(suite), "--quiet", *SAMPLES, *args])


def test_report_has_exactly_the_issue_shape_and_mocks_apply_per_row(tmp_path, fresh_database, capsys):
    suite = write_case(tmp_path)
    assert run_eval(suite, "-o", str(tmp_path / "report.json"), "--html", str(tmp_path / "r.html")) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report) == {"experiment_id", "suite", "pipeline", "summary", "rows", "baseline", "gate"}
    assert set(report["pipeline"]) == {"name", "spec_sha256"}
    assert set(report["summary"]) == {"rows", "runs", "score", "assertions", "latency_ms", "tokens", "cost"}
    assert report["summary"]["assertions"]["echoed"] == {"pass_rate": 1.0, "passed": 3, "failed": 0}
    assert set(report["summary"]["latency_ms"]) == {"p50", "p95"}
    row = report["rows"][2]
    assert set(row) == {"id", "inputs", "run_ids", "assertions"} and row["id"] == "r3"
    assert row["assertions"]["echoed"] == {"passed": True, "actual": "MOCKED", "expected": "MOCKED"}
    assert report["baseline"] is None and report["gate"]["passed"] is True
    assert "<table>" in (tmp_path / "r.html").read_text()
    out = capsys.readouterr().out
    assert ["echoed", "100.0%", "3", "0"] in [line.split() for line in out.splitlines()] and "gate: passed" in out

    from runtime.store.runs import get_run

    assert get_run(row["run_ids"][0])[0].source == "eval"  # linked to the run history


def test_suite_mocks_apply_to_every_row(tmp_path, fresh_database):
    suite = write_case(tmp_path, extra="mocks: {echo: {value: '> a'}}\n",
                       rows=[{"question": "a", "want": "> a"}, {"question": "b", "want": "> a"}])
    assert run_eval(suite) == 0


def test_an_invalid_suite_exits_2_listing_every_problem(tmp_path, fresh_database, capsys):
    suite = write_case(tmp_path, extra="  - {name: x, node: nope, type: fired}\n  - {name: y, node: echo, port: p, "
                                       "type: equals, value: 1}\n")
    assert run_eval(suite) == 2
    err = capsys.readouterr().err
    assert "error [nope]: assertion `x`: pipeline `echo` has no node `nope`." in err
    assert "error [echo.p]: assertion `y`: node `echo` has no output port `p`." in err
    assert "has 2 problem(s); nothing ran" in err


def test_a_regression_against_the_latest_baseline_exits_1_naming_the_rows(tmp_path, fresh_database, capsys):
    suite = write_case(tmp_path)
    assert run_eval(suite, "-o", str(tmp_path / "base.json")) == 0
    capsys.readouterr()
    broken = tmp_path / "broken.json"
    spec = json.loads((tmp_path / "pipe>.json").read_text())
    spec["nodes"][1]["params"]["prefix"] = ">> "
    broken.write_text(json.dumps(spec))
    assert run_eval(suite, "--pipeline", str(broken), "--baseline", "latest", "-o", str(tmp_path / "now.json")) == 1
    out = capsys.readouterr().out
    assert "2 regressed, 0 improved" in out and "regressed rows: r1, r2" in out
    assert "~ echo.prefix: '> ' -> '>> '" in out
    assert "  - 2 rows regressed (allowed 0): r1, r2" in out
    now = json.loads((tmp_path / "now.json").read_text())
    assert now["baseline"]["regressions"] == ["r1", "r2"]
    assert now["baseline"]["graph_diff"]["params_changed"] == {"echo": {"prefix": {"old": "> ", "new": ">> "}}}
    assert run_eval(suite, "--pipeline", str(broken), "--baseline", str(tmp_path / "base.json"), "--no-gate") == 0

    base_id, now_id = json.loads((tmp_path / "base.json").read_text())["experiment_id"], now["experiment_id"]
    capsys.readouterr()
    assert main(["eval", "compare", base_id, now_id]) == 1
    assert "regressed rows: r1, r2" in capsys.readouterr().out


def test_eval_schema_prints_the_suite_schema(capsys):
    assert main(["eval", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Suite"
    assert main(["eval", "x", "--schema"]) == 0


def test_publish_is_refused_until_the_gate_holds(tmp_path, fresh_database, capsys):
    from runtime.store.pipelines import create_pipeline, save_version
    from runtime.store.publish import published_version

    good = json.loads(write_case(tmp_path).parent.joinpath("pipe>.json").read_text())
    pipeline = create_pipeline(good, name="echo")
    v1 = save_version(pipeline.id, "v1")
    bad = {**good, "nodes": [dict(n, params={"prefix": ">> "}) if n["id"] == "echo" else n for n in good["nodes"]]}
    v2 = save_version(pipeline.id, "v2", bad)
    assert main(["publish", pipeline.id, str(v1.id), "--suite", "echo-suite"]) == 1  # no experiment yet
    assert "has no experiment of suite `echo-suite`" in capsys.readouterr().err
    suite = write_case(tmp_path)
    assert run_eval(suite) == 0
    assert main(["publish", "echo", str(v1.id), "--suite", str(suite)]) == 0
    assert published_version("echo").id == v1.id
    assert run_eval(suite, "--pipeline", str(_spec_file(tmp_path, bad))) == 0  # no baseline: the gate holds
    capsys.readouterr()
    assert main(["publish", pipeline.id, str(v2.id), "--suite", "echo-suite"]) == 1
    err = capsys.readouterr().err
    assert "refused: Publishing version" in err and "2 rows regressed (allowed 0): r1, r2" in err
    assert published_version(pipeline.id).id == v1.id
    assert main(["publish", pipeline.id, str(v2.id)]) == 0  # without a suite: no gate
    assert published_version(pipeline.id).id == v2.id


def _spec_file(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    return path


PLUGIN = '''
import asyncio
import os

from pydantic import BaseModel
from runtime import Component, RunContext, component


class Text(BaseModel):
    value: str


@component(id="test.tally", version=1, title="Tally")
class Tally(Component):
    """Note every run in a side file (to see what was recomputed), wait, shout the value."""

    async def run(self, inputs: Text, ctx: RunContext) -> Text:
        with open(os.environ["PATCHWIRE_TEST_TALLY"], "a") as handle:
            handle.write(inputs.value + "\\n")
        await asyncio.sleep(0.03)
        return Text(value=inputs.value.upper())
'''


def test_a_killed_eval_resumes_without_duplicated_rows(tmp_path: Path):
    plugin = tmp_path / "tally_plugin.py"
    plugin.write_text(PLUGIN)
    spec = make_spec({"q": ("io.input", {"name": "query"}), "t": ("test.tally", {}), "out": ("io.output", {})},
                     [("q", "value", "t", "value"), ("t", "value", "out", "value")], name="tally")
    (tmp_path / "pipe.json").write_text(spec.model_dump_json())
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"query": f"q{i}"}) + "\n" for i in range(80)))
    (tmp_path / "suite.yaml").write_text("name: tally\npipeline: pipe.json\ndataset: rows.jsonl\nconcurrency: 4\n"
                                         "assertions:\n  - {name: upper, node: t, port: value, type: regex, "
                                         "value: '^Q[0-9]+$'}\n")
    tally, data = tmp_path / "tally.txt", tmp_path / "data"
    env = {**os.environ, "PATCHWIRE_TEST_TALLY": str(tally), "PATCHWIRE_DATA_DIR": str(data),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # this checkout's code, not the installed one
    command = [PATCHWIRE, "eval", str(tmp_path / "suite.yaml"), "--quiet", "--plugin", str(plugin),
               "-o", str(tmp_path / "report.json")]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    work = data / "eval"
    while not any(work.glob("*.jsonl")) or next(work.glob("*.jsonl")).read_text().count("\n") < 15:
        assert proc.poll() is None and time.monotonic() < deadline, \
            f"the eval ended before it could be killed: {proc.stderr.read() if proc.stderr else ''}"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    finished = next(work.glob("*.jsonl")).read_text().count("\n")
    assert 15 <= finished < 80
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {finished} of 80 rows already ran" in done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert sorted(row["inputs"]["query"] for row in report["rows"]) == sorted(f"q{i}" for i in range(80))
    assert report["summary"]["rows"] == 80 and report["summary"]["assertions"]["upper"]["passed"] == 80
    runs = Counter(tally.read_text().split())
    assert set(runs) == {f"q{i}" for i in range(80)}
    assert sum(runs.values()) <= 80 + 4, "a row that finished before the kill ran again"  # 4 in flight at the kill
    assert not list(work.glob("*.jsonl")), "the work file is removed once the experiment is stored"


def test_serve_published_serves_the_published_version(tmp_path, fresh_database, monkeypatch, capsys):
    import uvicorn
    from fastapi.testclient import TestClient

    from runtime.store.pipelines import create_pipeline, save_version
    from runtime.store.publish import publish_version

    good = json.loads(write_case(tmp_path).parent.joinpath("pipe>.json").read_text())
    pipeline = create_pipeline(good, name="echo")
    assert main(["serve", "--published", "echo", *SAMPLES]) == 2
    assert "has no published version: publish one with `patchwire publish" in capsys.readouterr().err
    shouting = {**good, "nodes": [dict(n, params={"prefix": "!! "}) if n["id"] == "echo" else n for n in good["nodes"]]}
    publish_version(pipeline.id, save_version(pipeline.id, "loud", shouting).id)
    save_version(pipeline.id, "later, unpublished")
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.setdefault("app", app))
    assert main(["serve", "--published", pipeline.id, "--no-record", *SAMPLES]) == 0
    reply = TestClient(served["app"], base_url="http://127.0.0.1").post("/v1/pipelines/echo/run",
                                                                     json={"inputs": {"query": "hi"}})
    assert reply.status_code == 200, reply.text
    assert reply.json()["outputs"]["out"] == "!! hi"


def test_a_secret_value_in_the_dataset_is_masked_in_the_records_the_reports_and_the_summary(
        tmp_path, fresh_database, capsys, monkeypatch):
    """The row's run record masks the environment's secret values in its inputs; the experiment's row
    records, report.json, the HTML report and the printed failures do so too."""
    secret = "sk-canary-dataset-5d2c8e1f"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    suite = write_case(tmp_path, rows=[{"id": "r1", "question": f"key {secret}", "want": f"> {secret}!"}])
    assert run_eval(suite, "--no-gate", "-o", str(tmp_path / "report.json"), "--html", str(tmp_path / "r.html")) == 0
    out = capsys.readouterr().out
    assert "expected '> ***!'" in out and secret not in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rows"][0]["assertions"]["echoed"]["actual"] == "> key ***"
    assert report["rows"][0]["inputs"] == {"query": "key ***"}
    assert secret not in (tmp_path / "report.json").read_text() + (tmp_path / "r.html").read_text()
    from runtime.store.experiments import experiment_rows, get_experiment

    stored = repr(get_experiment(report["experiment_id"])) + repr(experiment_rows(report["experiment_id"]))
    assert "key ***" in stored and secret not in stored
