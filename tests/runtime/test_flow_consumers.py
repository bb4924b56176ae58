"""Every consumer of a run handles the events of nodes inside flow nodes: recorder, live view, progress."""

from __future__ import annotations

import io

import pytest

from runtime import api
from runtime.live import LiveRun
from runtime.progress import ProgressPrinter
from runtime.results import ResultCollector
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

EACH = sub_spec("each", {"doc": ("io.input", {}), "summarise": ("demo.echo", {"prefix": "s:"}),
                         "summary": ("io.output", {})},
                [("doc.value", "summarise.value"), ("summarise.value", "summary.value")])
MAIN = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                         "map1": ("flow.map", {"subflow": "each", "over": "doc", "concurrency": 2}),
                         "out": ("io.output", {})},
                [("docs.value", "map1.items"), ("map1.summary", "out.value")])


def plan():
    return api.compile(with_subflows(MAIN, each=EACH), flow_registry())


@pytest.mark.usefixtures("fresh_database")
async def test_the_recorder_stores_each_items_inner_nodes_by_path():
    the_plan = plan()
    recorder = RunRecorder(spec=the_plan.spec)
    execution = api.execute(the_plan, {"docs": ["a", "b", "c"]})
    await execution.consume(recorder)
    recorder.flush()
    run, nodes = get_run(execution.run_id)
    assert run.status == "succeeded" and run.outputs == {"out": ["s:a", "s:b", "s:c"]}
    item = nodes["map1/2/summarise"]
    assert (item.status, item.inputs, item.outputs) == ("succeeded", {"value": "c"}, {"value": "s:c"})
    assert nodes["map1"].trace["items"] == {"total": 3, "done": 3, "failed": 0}
    assert sum(1 for node_id in nodes if node_id.startswith("map1/")) == 9  # 3 items x 3 inner nodes


async def test_results_keep_top_level_nodes_and_progress_prints_paths():
    stream = io.StringIO()
    collector = ResultCollector()
    await api.execute(plan(), {"docs": ["a", "b"]}).consume(collector, ProgressPrinter(stream))
    assert set(collector.result.nodes) == {"docs", "map1", "out"}
    assert "map1/1/summarise" in stream.getvalue()


async def test_the_live_view_keeps_a_bounded_set_of_inner_views(monkeypatch):
    import runtime.live as live

    monkeypatch.setattr(live, "INNER_VIEWS", 10)
    execution = api.execute(plan(), {"docs": [str(i) for i in range(20)]})
    view = LiveRun(execution, pipeline_id=None, consumers=[])
    await view.drive()
    assert view.status == "succeeded"
    assert len(view.inner) == 10 and view.inner["map1/19/summarise"].status == "succeeded"
    assert set(view.snapshot()["nodes"]) == {"docs", "map1", "out"}


async def test_the_live_view_counts_a_maps_items_as_they_finish():
    """`[done, total, failed]` on the map node's view while it runs, then the map's own exact counts."""
    each = sub_spec("each", {"doc": ("io.input", {}), "work": ("demo.fail_on", {"value": "bad"}),
                             "summary": ("io.output", {})},
                    [("doc.value", "work.value"), ("work.value", "summary.value")])
    main = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                             "map1": ("flow.map", {"subflow": "each", "over": "doc", "concurrency": 1,
                                                   "on_item_error": "skip"}),
                             "out": ("io.output", {})},
                    [("docs.value", "map1.items"), ("map1.summary", "out.value")])
    execution = api.execute(api.compile(with_subflows(main, each=each), flow_registry()),
                            {"docs": ["a", "bad", "c", "d"]})
    seen: list[list[int] | None] = []
    view = LiveRun(execution, pipeline_id=None, consumers=[lambda e: seen.append(view.snapshot()["nodes"]["map1"]
                                                                                 ["progress"])])
    await view.drive()
    assert view.status == "succeeded"
    counts = [p for p in seen if p is not None]
    assert counts[0] == [0, 4, 0]  # from the map's start: nothing done yet, four items
    assert [0, 4, 0] in counts and [1, 4, 0] in counts and [1, 4, 1] in counts and [2, 4, 1] in counts
    assert counts == sorted(counts, key=lambda c: c[0] + c[2])  # never goes back
    assert view.snapshot()["nodes"]["map1"]["progress"] == [3, 4, 1]
    assert view.snapshot()["nodes"]["docs"]["progress"] is None
