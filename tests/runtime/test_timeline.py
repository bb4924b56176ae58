"""The timeline of a real run: the critical path is the slow branch, and parallelism shows as saved time."""

from __future__ import annotations

from runtime import compile
from runtime.live import LiveRuns
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec
from runtime.timeline import build_timeline, critical_path


def skew():
    return make_spec({"q": ("io.input", {}), "a": ("demo.delay", {"seconds": 0.12}),
                      "b1": ("demo.delay", {"seconds": 0.03}), "b2": ("demo.delay", {"seconds": 0.03}),
                      "join": ("demo.join", {}), "out": ("io.output", {})},
                     [("q", "value", "a", "value"), ("q", "value", "b1", "value"), ("b1", "value", "b2", "value"),
                      ("a", "value", "join", "a"), ("b2", "value", "join", "b"), ("join", "value", "out", "value")])


async def test_the_timeline_of_a_run_marks_the_slow_branch_as_critical():
    spec = skew()
    live = LiveRuns().start(compile(spec, sample_registry()), {"q": "x"}, record=False)
    final = [s async for s in live.watch(0.01)][-1]
    timeline = build_timeline(spec, final["nodes"], final["started_at"], final["latency_ms"])
    assert timeline["critical_path"] == ["q", "a", "join", "out"]
    rows = {r["node_id"]: r for r in timeline["rows"]}
    assert rows["a"]["critical"] and not rows["b1"]["critical"]
    assert rows["b2"]["start_ms"] >= rows["b1"]["start_ms"] + 25
    assert 120 <= timeline["total_ms"] < 180
    assert timeline["sum_ms"] >= 175  # 120 + 30 + 30 ms of node time in ~125 ms of wall time
    assert timeline["saved_ms"] > 40


def test_the_critical_path_ignores_nodes_that_never_finished():
    spec = skew()
    assert critical_path(spec, {"q": 0.0, "b1": 0.03, "b2": 0.06}) == ["q", "b1", "b2"]
    assert critical_path(spec, {}) == []
