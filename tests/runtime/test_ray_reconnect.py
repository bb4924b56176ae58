"""One process, several Ray experiments: each runs where it asks, with the settings of its own moment.

A Ray connection made earlier in the process (a notebook's `ray.init`, another test, an earlier run) is
reused only when no address is asked or it is the asked one, and its tasks carry today's settings; an
experiment asking for another cluster disconnects and connects there, and an unreachable address is named
instead of running the rows on whatever Ray happened to be connected."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.batch.runner import BatchError
from runtime.eval.runner import prepare_suite
from runtime.eval.session import run_prepared
from runtime.store.runs import get_run
from runtime.testing.components import sample_registry
from tests.infra.services import free_port
from tests.runtime.test_eval_in_process import echo_spec, suite

ROOT = Path(__file__).resolve().parents[2]


def _experiment(tmp_path, address: str | None):
    on_ray = suite(tmp_path)
    on_ray.engine, on_ray.ray_address = "ray", address
    return prepare_suite(on_ray, tmp_path, sample_registry(), spec=echo_spec("> "))


def _assert_like_local(report: dict, local: dict) -> None:
    assert [r["assertions"] for r in report["rows"]] == [r["assertions"] for r in local["rows"]]
    run, _ = get_run(report["rows"][0]["run_ids"][0])
    assert run.source == "eval"  # a worker recorded it in today's DATABASE_URL


def test_experiments_after_an_earlier_ray_connection_run_where_asked_with_todays_settings(
        ray_cluster, tmp_path, fresh_database, monkeypatch):
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # the local Ray binds 127.0.0.1 (read on import)
    import ray

    monkeypatch.delenv("PATCHWIRE_PLUGINS", raising=False)  # the earlier connection's workers lack the plugin
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "earlier"))
    ray.init(address="local", num_cpus=1, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PATCHWIRE_DATA_DIR": str(tmp_path / "earlier")}})
    try:
        earlier = ray.get_runtime_context().gcs_address
        assert earlier.startswith("127.0.0.1:"), earlier
        monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("PATCHWIRE_PLUGINS", "runtime.testing.components")  # the workers' registry, now
        local, _ = asyncio.run(run_prepared(prepare_suite(suite(tmp_path), tmp_path, sample_registry(),
                                                          spec=echo_spec("> "))))

        dead = f"127.0.0.1:{free_port()}"
        with pytest.raises(BatchError, match=f"Cannot reach the Ray cluster at `{dead}`"):
            asyncio.run(run_prepared(_experiment(tmp_path, dead)))
        assert ray.is_initialized() and ray.get_runtime_context().gcs_address == earlier  # not dropped for it

        report, _ = asyncio.run(run_prepared(_experiment(tmp_path, None)))  # no address: the connection there
        _assert_like_local(report, local)  # its tasks got today's PATCHWIRE_PLUGINS
        assert ray.get_runtime_context().gcs_address == earlier

        report, _ = asyncio.run(run_prepared(_experiment(tmp_path, f"127.0.0.1:{ray_cluster.port}")))
        _assert_like_local(report, local)
        assert report["summary"]["assertions"] == local["summary"]["assertions"], ray_cluster.tail()
        assert not ray.is_initialized()  # the cluster's connection was the run's own, and it is closed
    finally:
        ray.shutdown()


def test_a_task_error_ray_cannot_unpickle_is_logged_as_the_workers_error():
    import ray.exceptions

    from runtime.batch.ray_engine import _task_error

    trace = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nSpecError: unknown component `x`\n"
    assert _task_error(ray, ray.exceptions.UnserializableException(trace)) == "SpecError: unknown component `x`"
    assert _task_error(ray, ray.exceptions.WorkerCrashedError()).startswith("The worker died unexpectedly")


def test_a_local_ray_binds_loopback_even_when_ray_was_imported_before(tmp_path):
    """Ray reads its bind setting on import: a `ray` imported before Patchwire asked still listens on loopback."""
    code = ("import ray\n"  # imported first, without RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER
            "from runtime.batch.ray_engine import _connect\n"
            "ray, _ = _connect(None)\n"
            "try:\n"
            "    print(ray.get_runtime_context().gcs_address)\n"
            "finally:\n"
            "    ray.shutdown()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    address = proc.stdout.strip().splitlines()[-1]
    assert address.startswith("127.0.0.1:"), f"the local Ray listens on {address}, not loopback"
