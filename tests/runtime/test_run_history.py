"""The run history's aggregates (`runs stats`), retention (`runs prune`, background pruning) and a 1,000-run soak."""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from datetime import timedelta

import pytest
from sqlmodel import select

from runtime import compile
from runtime.cli import main
from runtime.consumers import default_consumers, flush_records, run_with_consumers
from runtime.store import recorder as recorder_module
from runtime.store.db import session
from runtime.store.retention import RetentionError, parse_retention, prune_runs
from runtime.store.stats import percentile, run_stats
from runtime.store.tables import NodeRecord, RunRecord
from runtime.testing.specs import make_spec
from tests.runtime.test_budget import registry, spending_chain

pytestmark = pytest.mark.usefixtures("fresh_database")

REGISTRY = registry()


def broken():
    return make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "down"}), "out": ("io.output", {})},
                     [("q", "value", "boom", "value"), ("boom", "value", "out", "value")], name="broken")


async def record(spec, n: int, factories=None) -> None:
    plan = compile(spec, REGISTRY)
    factories = factories if factories is not None else default_consumers("api")
    for _ in range(n):
        await run_with_consumers(plan, {"q": "x"}, factories)
    flush_records()


def count(pipeline: str | None = None) -> int:
    query = select(RunRecord.id)
    with session() as s:
        return len(list(s.exec(query.where(RunRecord.pipeline_name == pipeline) if pipeline else query)))


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


async def test_stats_per_pipeline_and_node() -> None:
    await record(spending_chain(None, n=2), 4)
    await record(broken(), 2)
    stats = {row.pipeline: row for row in run_stats()}
    spender, failing = stats["spender"], stats["broken"]
    assert (spender.runs, spender.failed, spender.error_rate, spender.tokens) == (4, 0, 0.0, 4 * 80)
    assert spender.cost_usd == pytest.approx(4 * 0.02)
    assert spender.p50_ms is not None and spender.p95_ms >= spender.p50_ms
    assert spender.nodes["m0"].runs == 4 and spender.nodes["m0"].tokens == 160
    assert spender.nodes["m0"].cost_usd == pytest.approx(0.04)
    assert (failing.runs, failing.failed, failing.error_rate) == (2, 2, 1.0)
    assert failing.nodes["boom"].error_rate == 1.0 and "out" not in failing.nodes  # cancelled: never ran
    assert [row.pipeline for row in run_stats(pipeline="broken")] == ["broken"]
    assert run_stats(since=timedelta(seconds=-1)) == []  # a window that ends before every run


async def test_stats_by_version_split_runs_of_an_edited_spec() -> None:
    await record(spending_chain(None, n=2), 2)
    await record(spending_chain(None, n=3), 1)
    rows = run_stats(pipeline="spender", by_version=True)
    assert sorted(row.runs for row in rows) == [1, 2] and len({row.version for row in rows}) == 2


async def test_the_cli_prints_stats(capsys: pytest.CaptureFixture[str]) -> None:
    await record(spending_chain(None, n=1), 3)
    assert main(["runs", "stats", "--json", "--since", "1h"]) == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["pipelines"]
    assert (row["pipeline"], row["runs"], row["tokens"]) == ("spender", 3, 120)
    assert main(["runs", "stats"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("spender: 3 runs, 0.0% errors, p50 ") and "\n  m0 " in text
    assert main(["runs", "stats", "--since", "soon"]) == 2
    assert "--since 'soon': expected a number and a unit" in capsys.readouterr().err


def test_retention_settings_parse_or_say_how_to_fix() -> None:
    assert parse_retention("30d,1000") == parse_retention("1000, 30d")
    assert parse_retention("30d").max_age == timedelta(days=30) and parse_retention("1000").max_runs == 1000
    assert parse_retention("").keeps_everything and parse_retention(None).keeps_everything
    with pytest.raises(RetentionError, match=r"PATCHWIRE_RUN_RETENTION='30 days': `30 days` is neither"):
        parse_retention("30 days")


async def test_prune_keeps_the_newest_runs_per_pipeline_and_drops_old_ones(capsys) -> None:
    await record(spending_chain(None, n=1), 5)
    await record(broken(), 2)
    with session() as s:  # age two spender runs by 40 days
        old = list(s.exec(select(RunRecord).where(RunRecord.pipeline_name == "spender").limit(2)))
        for run in old:
            run.started_at = run.started_at - timedelta(days=40)
            s.add(run)
        s.commit()
    assert prune_runs(parse_retention("30d")) == 2
    assert (count("spender"), count("broken")) == (3, 2)
    assert main(["runs", "prune", "--retention", "1"]) == 0
    assert capsys.readouterr().out == "pruned 3 runs\n"
    assert (count("spender"), count("broken")) == (1, 1)
    with session() as s:
        assert {n.run_id for n in s.exec(select(NodeRecord))} == set(s.exec(select(RunRecord.id)))  # nodes too
    assert main(["runs", "prune"]) == 2
    assert "nothing to prune: PATCHWIRE_RUN_RETENTION is not set" in capsys.readouterr().err


async def test_the_recorder_prunes_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCHWIRE_RUN_RETENTION", "3")
    monkeypatch.setattr(recorder_module, "PRUNE_EVERY_S", 0.0)
    await record(spending_chain(None, n=1), 8)
    await record(broken(), 1)  # one more batch: a pass after the last spender run was stored
    deadline = time.monotonic() + 20
    while count("spender") > 3 and time.monotonic() < deadline:
        recorder_module.RunRecorder.flush(5)
        time.sleep(0.05)
    assert count("spender") == 3


async def test_a_thousand_recorded_runs_keep_memory_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorder queue, sessions and the egress registry must not grow with the number of runs."""
    monkeypatch.setenv("PATCHWIRE_RUN_RETENTION", "100")
    monkeypatch.setattr(recorder_module, "PRUNE_EVERY_S", 0.5)
    plan = compile(spending_chain(None, n=2), REGISTRY)
    factories = default_consumers("serve")  # recorder and metrics, as a service runs them
    started = time.monotonic()
    for _ in range(100):  # warm up: engines, caches, metric label sets
        await run_with_consumers(plan, {"q": "x"}, factories)
    flush_records()
    gc.collect()
    tracemalloc.start()
    try:  # what the second 450 runs add beyond the first 450: flat means it does not grow with the runs
        snapshots = []
        for i in range(900):
            await run_with_consumers(plan, {"q": f"x{i}"}, factories)
            if i in (449, 899):
                flush_records(30)
                gc.collect()
                snapshots.append(tracemalloc.take_snapshot())
        grown = sum(stat.size_diff for stat in snapshots[1].compare_to(snapshots[0], "filename"))
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    from runtime import egress

    assert egress._ACTIVE == {}  # every run's audit ended
    print(f"soak: {grown / 1e3:.0f} kB over the last 450 of 900 runs in {elapsed:.1f} s")
    assert grown < 500_000, f"memory grew by {grown / 1e6:.2f} MB over the last 450 runs"
    assert elapsed < 240, f"1,000 runs took {elapsed:.0f} s"
    # Retention keeps up in the background (one pass every 0.5 s): within a few passes of the last run the
    # history is back near its limit, however many runs a fast machine fitted between two passes.
    deadline = time.monotonic() + 10
    while count("spender") > 100 + 50 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count("spender") <= 100 + 50
