"""Live runs: owned by the process, watched by any number of views, coalesced, cancellable."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import compile
from runtime.live import LiveRuns, preview
from runtime.store.runs import get_run
from runtime.testing.components import sample_registry
from runtime.testing.specs import fan_out_spec, make_spec

REGISTRY = sample_registry()


def slow_spec(seconds: float = 0.2):
    return compile(make_spec({"q": ("io.input", {}), "fast": ("demo.echo", {"prefix": "f:"}),
                              "slow": ("demo.delay", {"seconds": seconds}), "out": ("io.output", {})},
                             [("q", "value", "fast", "value"), ("fast", "value", "slow", "value"),
                              ("slow", "value", "out", "value")]), REGISTRY)


async def last(watch):
    snapshots = [s async for s in watch]
    return snapshots, snapshots[-1]


async def test_a_watcher_sees_the_run_progress_and_its_end():
    runs = LiveRuns()
    live = runs.start(slow_spec(), {"q": "x"}, record=False)
    snapshots, final = await last(live.watch(interval=0.01))
    assert final["status"] == "succeeded" and final["outputs"] == {"out": "f:x"}
    assert {n: v["status"] for n, v in final["nodes"].items()} == {"q": "succeeded", "fast": "succeeded",
                                                                   "slow": "succeeded", "out": "succeeded"}
    assert final["nodes"]["slow"]["latency_ms"] >= 200
    assert any(s["nodes"]["slow"]["status"] == "running" for s in snapshots)
    assert runs.active() == []


async def test_a_second_view_joining_mid_run_gets_the_current_state_then_the_rest():
    runs = LiveRuns()
    live = runs.start(slow_spec(0.3), {"q": "x"}, pipeline_id="p1", record=False)
    await asyncio.sleep(0.1)  # like a page reloaded while `slow` runs
    assert [r.run_id for r in runs.active("p1")] == [live.run_id]
    joined = runs.get(live.run_id).watch(interval=0.01)
    first = await joined.__anext__()
    assert first["nodes"]["fast"]["status"] == "succeeded" and first["nodes"]["slow"]["status"] == "running"
    rest = [s async for s in joined]
    assert rest[-1]["status"] == "succeeded"


async def test_stop_cancels_the_running_nodes_within_a_second():
    runs = LiveRuns()
    live = runs.start(slow_spec(30), {"q": "x"}, record=False)
    await asyncio.sleep(0.05)
    stopped = time.perf_counter()
    live.cancel()
    _, final = await last(live.watch(interval=0.01))
    assert time.perf_counter() - stopped < 1
    assert final["status"] == "cancelled"
    assert final["nodes"]["slow"]["status"] == "cancelled"
    assert final["nodes"]["slow"]["skip_reason"] == "stopped from the editor"


async def test_two_runs_at_once_keep_their_statuses_apart():
    runs = LiveRuns()
    ok = runs.start(slow_spec(0.05), {"q": "a"}, record=False)
    failing = compile(make_spec({"q": ("io.input", {}), "boom": ("demo.raise", {"message": "no"}),
                                 "out": ("io.output", {})},
                                [("q", "value", "boom", "value"), ("boom", "value", "out", "value")]), REGISTRY)
    bad = runs.start(failing, {"q": "b"}, record=False)
    (_, ok_final), (_, bad_final) = await asyncio.gather(last(ok.watch(0.01)), last(bad.watch(0.01)))
    assert (ok_final["status"], bad_final["status"]) == ("succeeded", "failed")
    assert set(ok_final["nodes"]) == {"q", "fast", "slow", "out"} and set(bad_final["nodes"]) == {"q", "boom", "out"}
    assert bad_final["nodes"]["boom"]["error"] == {"type": "ValueError", "message": "no"}


async def test_bursts_of_events_are_coalesced_into_few_updates():
    runs = LiveRuns()
    live = runs.start(compile(fan_out_spec(50, 0.05), REGISTRY), {"query": "x"}, record=False)
    snapshots, final = await last(live.watch(interval=0.04))
    assert final["status"] == "succeeded"
    assert len(snapshots) <= 6, f"{len(snapshots)} updates for ~100 events"


async def test_streamed_tokens_and_fired_ports_are_in_the_view():
    spec = compile(make_spec({"q": ("io.input", {}), "s": ("demo.stream", {"words": 3}),
                              "route": ("demo.router", {"routes": ["a", "b"]}), "out": ("io.output", {})},
                             [("q", "value", "s", "value"), ("s", "value", "route", "value"),
                              ("route", "a", "out", "value")]), REGISTRY)
    _, final = await last(LiveRuns().start(spec, {"q": "b"}, record=False).watch(0.01))
    assert final["nodes"]["s"]["streamed"] == "b-0 b-1 b-2 "
    assert final["nodes"]["route"]["fired"] == ["b"]
    assert final["nodes"]["out"]["status"] == "skipped"


@pytest.mark.usefixtures("fresh_database")
async def test_a_live_run_is_recorded_for_history():
    live = LiveRuns().start(slow_spec(0.01), {"q": "x"}, pipeline_id="p9")
    await last(live.watch(0.01))
    from runtime.store.recorder import RunRecorder

    RunRecorder().flush()
    record, nodes = get_run(live.run_id)
    assert (record.pipeline_id, record.source, record.status) == ("p9", "editor", "succeeded")
    assert nodes["slow"].outputs == {"value": "f:x"}


def test_previews_are_bounded_for_the_browser():
    assert preview("x" * 1000, 100) == "x" * 100 + "… (1000 chars)"
    assert len(preview(list(range(100)))) == 21


async def test_snapshots_are_spaced_by_the_interval_but_the_end_is_sent_at_once():
    runs = LiveRuns()
    live = runs.start(compile(fan_out_spec(20, 0.02), REGISTRY), {"query": "x"}, record=False)
    times, statuses = [], []
    async for snapshot in live.watch(interval=0.5):
        times.append(time.perf_counter())
        statuses.append(snapshot["status"])
    assert statuses[-1] == "succeeded"
    assert times[-1] - times[0] < 0.3  # the run takes ~20 ms: its end is not held back by the 0.5 s interval
    assert all(b - a >= 0.45 for a, b in zip(times[:-2], times[1:-1], strict=True))  # bursts are spaced
