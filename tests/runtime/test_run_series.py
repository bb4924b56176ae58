"""The run history per time bucket (`run_series`, what the editor's Monitor tab plots) and the filters the
Monitor tab uses on `run_stats` (a saved pipeline's id, one spec version)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from runtime.consumers import default_consumers
from runtime.store.db import session
from runtime.store.stats import run_series, run_stats, spec_version
from runtime.store.tables import RunRecord, utcnow
from tests.runtime.test_budget import spending_chain
from tests.runtime.test_run_history import broken, record

pytestmark = pytest.mark.usefixtures("fresh_database")


def age(pipeline: str, n: int, by: timedelta) -> None:
    """Move the start of `n` runs of `pipeline` back by `by`."""
    with session() as s:
        for run in list(s.exec(select(RunRecord).where(RunRecord.pipeline_name == pipeline).limit(n))):
            run.started_at = run.started_at - by
            s.add(run)
        s.commit()


async def test_runs_fall_into_the_bucket_of_their_start_and_empty_buckets_stay() -> None:
    await record(spending_chain(None, n=1), 3)
    age("spender", 2, timedelta(hours=4.5))  # two runs 4.5 h ago (the second hour of 6), one now
    await record(broken(), 1)
    points = run_series(pipeline="spender", since=timedelta(hours=6), buckets=6)
    assert len(points) == 6 and [p.runs for p in points] == [0, 2, 0, 0, 0, 1]
    assert points[0].start == pytest.approx(points[-1].end - timedelta(hours=6), abs=timedelta(seconds=5))
    assert all(a.end == b.start for a, b in zip(points, points[1:], strict=False))
    assert points[1].tokens == 80 and points[1].cost_usd == pytest.approx(0.02) and points[1].error_rate == 0.0
    assert points[1].p50_ms is not None and points[1].p95_ms >= points[1].p50_ms
    assert (points[2].runs, points[2].p50_ms, points[2].cost_usd) == (0, None, None)
    failing = run_series(pipeline="broken", since=timedelta(hours=1), buckets=4)
    assert [p.failed for p in failing] == [0, 0, 0, 1] and failing[-1].error_rate == 1.0


async def test_without_a_window_the_series_starts_at_the_oldest_run() -> None:
    assert run_series(pipeline="spender") == []
    await record(spending_chain(None, n=1), 2)
    age("spender", 1, timedelta(days=3))
    points = run_series(pipeline="spender", buckets=3)
    assert [p.runs for p in points] == [1, 0, 1]
    assert points[-1].end - points[0].start == pytest.approx(timedelta(days=3), abs=timedelta(seconds=5))
    with pytest.raises(ValueError, match="run_series: buckets must be at least 1, got 0."):
        run_series(buckets=0)


async def test_runs_after_now_and_in_flight_are_not_counted() -> None:
    await record(spending_chain(None, n=1), 2)
    past = utcnow() - timedelta(hours=1)
    assert sum(p.runs for p in run_series(pipeline="spender", since=timedelta(hours=2), now=past)) == 0
    with session() as s:
        run = s.exec(select(RunRecord)).first()
        run.status = "running"
        s.add(run)
        s.commit()
    assert sum(p.runs for p in run_series(pipeline="spender", since=timedelta(hours=1))) == 1


async def test_a_saved_pipeline_counts_its_runs_and_its_specs_runs_from_outside_the_editor() -> None:
    spec = spending_chain(None, n=1)
    await record(spec, 2, default_consumers("editor", pipeline_id="p-1"))
    await record(spec, 1, default_consumers("cli"))  # the same spec from `patchwire run`: no pipeline id
    await record(spec, 1, default_consumers("editor", pipeline_id="p-2"))  # another saved pipeline, same name
    (mine,) = run_stats(pipeline="spender", pipeline_id="p-1")
    assert mine.runs == 3 and mine.nodes["m0"].runs == 3
    assert sum(p.runs for p in run_series(pipeline="spender", pipeline_id="p-1", since=timedelta(hours=1))) == 3
    (only_saved,) = run_stats(pipeline_id="p-1")
    assert only_saved.runs == 2


async def test_one_version_of_an_edited_spec() -> None:
    await record(spending_chain(None, n=1), 2)
    edited = spending_chain(None, n=2)
    await record(edited, 1)
    version = spec_version(edited.model_dump(mode="json"))
    (row,) = run_stats(pipeline="spender", version=version)
    assert row.runs == 1 and set(row.nodes) >= {"m0", "m1"}
    assert sum(p.runs for p in run_series(pipeline="spender", version=version, since=timedelta(hours=1))) == 1
