"""The Evaluate panel's way onto Ray: `run_prepared` of a suite with `engine: ray` runs the rows through
`patchwire eval --engine ray`'s runner on the real session cluster (tests/infra), in a thread, so the caller's
event loop keeps running while the rows do; the records are the local engine's."""

from __future__ import annotations

import asyncio

import pytest

from runtime.eval.runner import prepare_suite
from runtime.eval.session import run_prepared
from runtime.testing.components import sample_registry
from tests.infra.services import free_port
from tests.runtime.test_eval_in_process import echo_spec, suite


async def _run_and_tick(prep) -> tuple[dict, list[dict], int]:
    """The experiment, and how often another task on the same loop ran meanwhile."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        report, records = await run_prepared(prep, on_record=lambda r: None)
    finally:
        ticker.cancel()
    return report, records, ticks


def test_the_panels_ray_engine_gives_the_local_results_without_blocking_the_loop(
        ray_cluster, tmp_path, fresh_database, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PATCHWIRE_PLUGINS", "runtime.testing.components")  # the workers' registry, as the editor's
    registry = sample_registry()
    local_report, _ = asyncio.run(run_prepared(prepare_suite(suite(tmp_path), tmp_path, registry, spec=echo_spec("> "))))
    on_ray = suite(tmp_path)
    on_ray.engine, on_ray.ray_address = "ray", f"127.0.0.1:{ray_cluster.port}"
    report, records, ticks = asyncio.run(_run_and_tick(prepare_suite(on_ray, tmp_path, registry,
                                                                     spec=echo_spec("> "))))
    assert report["summary"]["assertions"] == local_report["summary"]["assertions"], ray_cluster.tail()
    assert [r["assertions"] for r in report["rows"]] == [r["assertions"] for r in local_report["rows"]]
    assert len(records) == 2 and ticks > 0  # Ray connected and ran while the loop kept ticking

    from runtime.store.runs import get_run

    run, _ = get_run(report["rows"][0]["run_ids"][0])
    assert run.source == "eval" and run.pipeline_id == "p-editor"  # a worker recorded it in the run history


def test_an_unreachable_cluster_is_named(tmp_path, fresh_database, monkeypatch):
    from runtime.batch.runner import BatchError

    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path / "data"))
    address = f"127.0.0.1:{free_port()}"
    dead = suite(tmp_path)
    dead.engine, dead.ray_address = "ray", address
    prep = prepare_suite(dead, tmp_path, sample_registry(), spec=echo_spec("> "))
    with pytest.raises(BatchError, match=f"Cannot reach the Ray cluster at `{address}`"):
        asyncio.run(run_prepared(prep))
