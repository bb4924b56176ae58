"""`patchwire eval --engine ray`: the rows run as Ray tasks on a real `ray start --head` cluster (bound to
127.0.0.1, started without Patchwire's settings) and give the same results as the local engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime.cli import main
from tests.infra.services import free_port
from tests.runtime.test_eval_cli import write_case

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
ROOT = Path(__file__).resolve().parents[2]
SCORED = ("  - {name: keyword, node: echo, type: component, component: eval.score, "
          "params: {method: keywords, keywords: ['a']}, inputs: {answer: echo.value}, value: 0.5}\n"
          "  - {name: routed, node: router, type: branch, value: a}")


def eval_cli(suite: Path, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATCHWIRE_DATA_DIR": str(tmp_path / "data"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "PYTHONPATH": str(ROOT)}
    return subprocess.run([PATCHWIRE, "eval", str(suite), "--quiet", "--plugin", "runtime.testing.components",
                           *args], capture_output=True, text=True, timeout=300, env=env)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between any two experiments: ids and timings."""
    summary = {k: v for k, v in report["summary"].items() if k != "latency_ms"}
    rows = [{**row, "run_ids": len(row["run_ids"]),
             "assertions": {n: r for n, r in row["assertions"].items() if n != "fast"}} for row in report["rows"]]
    return {"summary": summary, "rows": rows, "gate": report["gate"], "pipeline": report["pipeline"]}


def test_eval_on_ray_gives_the_local_engines_results(ray_cluster, tmp_path: Path):
    rows = [{"id": f"r{i}", "question": q, "want": f"> {q}"} for i, q in enumerate(["a", "b", "ab", "c", "a b"])]
    rows.append({"id": "mocked", "question": "zz", "want": "MOCKED", "mocks": {"echo": {"value": "MOCKED"}}})
    suite = write_case(tmp_path, extra=SCORED, rows=rows)
    local = eval_cli(suite, "-o", str(tmp_path / "local.json"), tmp_path=tmp_path)
    assert local.returncode == 0, local.stderr
    on_ray = eval_cli(suite, "--engine", "ray", "--ray-address", f"127.0.0.1:{ray_cluster.port}",
                      "-o", str(tmp_path / "ray.json"), tmp_path=tmp_path)
    assert on_ray.returncode == 0, on_ray.stderr + ray_cluster.tail()
    local_report = json.loads((tmp_path / "local.json").read_text())
    ray_report = json.loads((tmp_path / "ray.json").read_text())
    assert comparable(ray_report) == comparable(local_report)
    assert ray_report["summary"]["assertions"]["keyword"] == {"pass_rate": 0.3333, "passed": 2, "failed": 4}  # "a", "a b"
    assert [r["assertions"]["echoed"]["actual"] for r in ray_report["rows"]][-1] == "MOCKED"  # a row's mocks apply
    assert ray_report["rows"][0]["assertions"]["fast"]["passed"] is True
    recorded = _recorded_runs(tmp_path)
    for row in ray_report["rows"]:  # every row's run is in the run history, source eval
        assert recorded.get(row["run_ids"][0]) == "eval"


def _recorded_runs(tmp_path: Path) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        return dict(db.execute("SELECT id, source FROM run_record"))


def test_the_suites_engine_and_address_are_used_and_a_dead_address_is_named(tmp_path: Path):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    suite = write_case(tmp_path, extra=f"engine: ray\nray_address: '{address}'")
    done = eval_cli(suite, tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: Cannot reach the Ray cluster at `{address}`: Connection refused after at "
                                  "most 5 s."), done.stderr


def test_ray_address_needs_the_ray_engine(tmp_path, fresh_database, capsys):
    suite = write_case(tmp_path)
    assert main(["eval", str(suite), "--quiet", "--plugin", "runtime.testing.components", "--ray-address",
                 "127.0.0.1:6379"]) == 2
    assert "--ray-address needs --engine ray (or `engine: ray` in the suite)." in capsys.readouterr().err


def test_rows_lost_to_failed_ray_tasks_store_nothing_and_resume(tmp_path, fresh_database, capsys, monkeypatch):
    import runtime.eval.ray_rows as ray_rows

    def lose_the_last_row(prep, todo, on_record, plugins, address):  # a worker killed for good after 2 rows
        for row in todo[:2]:
            on_record(ray_rows.eval_chunk(ray_rows.experiment_json(prep), tuple(plugins), [row], 1)[0])
        return len(todo) - 2

    monkeypatch.setattr(ray_rows, "run_rows_on_ray", lose_the_last_row)
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
    suite = write_case(tmp_path)
    args = ["eval", str(suite), "--quiet", "--plugin", "runtime.testing.components"]
    assert main([*args, "--engine", "ray"]) == 1
    err = capsys.readouterr().err
    assert "error: 1 of 3 rows did not finish (a Ray task failed, see above); nothing was stored. Rerun the same " \
           "command: it runs only those rows" in err
    from runtime.store.experiments import list_experiments

    assert list_experiments() == []
    assert main([*args, "-o", str(tmp_path / "report.json")]) == 0
    assert "resuming: 2 of 3 rows already ran" in capsys.readouterr().err
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["rows"] == 3


def test_eval_chunk_is_the_local_row_record(tmp_path, fresh_database):
    """What a Ray task returns for a row is what the local engine writes for it (bar run ids and timings)."""
    import asyncio

    from runtime.consumers import default_consumers
    from runtime.eval.ray_rows import eval_chunk, experiment_json
    from runtime.eval.runner import eval_row, prepare
    from runtime.registry import default_registry

    prep = prepare(write_case(tmp_path, extra=SCORED), default_registry(["runtime.testing.components"]))
    chunk = eval_chunk(experiment_json(prep), ("runtime.testing.components",), prep.rows, 2)
    here = [asyncio.run(eval_row(prep, row, default_consumers("eval"))) for row in prep.rows]

    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("run_ids", "latencies", "probe_run_ids")} | {
            "assertions": {n: r for n, r in record["assertions"].items() if n != "fast"}}

    assert [strip(r) for r in chunk] == [strip(r) for r in here]
