"""What the canvas is sent about the inside of flow nodes while a run goes: the open subflow's inner nodes
(folded by the live run) and a loop node's iteration, live and as stored."""

from __future__ import annotations

import pytest

from editor import run_views as rv
from editor.state.subflow_live import inner_canvas, opened_flow
from runtime import api
from runtime.live import LiveRun
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run
from runtime.testing.flows import flow_registry, sub_spec, with_subflows

EACH = sub_spec("each", {"doc": ("io.input", {}), "wait": ("demo.delay", {"seconds": 0.05}),
                         "work": ("demo.fail_on", {"value": "bad"}), "summary": ("io.output", {})},
                [("doc.value", "wait.value"), ("wait.value", "work.value"), ("work.value", "summary.value")])
MAP = sub_spec("main", {"docs": ("io.input", {"type": "json"}),
                        "m": ("flow.map", {"subflow": "each", "over": "doc", "concurrency": 3, "on_item_error": "skip"}),
                        "out": ("io.output", {})},
               [("docs.value", "m.items"), ("m.summary", "out.value")])
LOOP = sub_spec("main", {"q": ("io.input", {}),
                         "l": ("flow.loop", {"subflow": "each", "max_iterations": 3}), "out": ("io.output", {})},
                [("q.value", "l.doc"), ("l.summary", "out.value")])


def live_run(spec, inputs, seen: list) -> LiveRun:
    view = LiveRun(api.execute(api.compile(spec, flow_registry()), inputs), pipeline_id=None, consumers=[])
    view._consumers = [lambda _event: seen.append((inner_canvas(view, "m"), rv.compact_status(
        view.snapshot()["nodes"])))]
    return view


async def test_the_open_maps_inner_nodes_are_sent_running_with_their_counts_then_settled():
    seen: list = []
    view = live_run(with_subflows(MAP, each=EACH), {"docs": ["a", "bad", "c"]}, seen)
    await view.drive()
    running = [inner["wait"] for inner, _ in seen if inner.get("wait", {}).get("status") == "running"]
    assert any(entry.get("counts") == [3, 0, 0] and entry["started_at"] for entry in running)
    final = inner_canvas(view, "m")
    assert final["wait"] == {"status": "succeeded", "latency_ms": final["wait"]["latency_ms"], "fired": ["value"],
                             "counts": [0, 3, 0]}
    assert final["work"]["status"] == "failed" and final["work"]["counts"] == [0, 2, 1]
    assert inner_canvas(view, "") == {} and inner_canvas(None, "m") == {}
    assert all("counts" not in entry for entry in seen[-1][1].values())  # the pipeline's own nodes: unchanged


async def test_a_loop_node_is_sent_its_iteration_as_it_runs():
    seen: list = []
    view = live_run(with_subflows(LOOP, each=EACH), {"q": "a"}, seen)
    await view.drive()
    loops = [top["l"].get("loop") for _, top in seen]
    assert [1, 3] in loops and [2, 3] in loops and loops[-1] == [3, 3]
    assert "loop" not in seen[-1][1]["q"]


@pytest.mark.usefixtures("fresh_database")
async def test_a_stored_loop_shows_the_count_it_ran_of_its_bound():
    plan = api.compile(with_subflows(LOOP, each=EACH), flow_registry())
    recorder = RunRecorder(spec=plan.spec)
    execution = api.execute(plan, {"q": "a"})
    await execution.consume(recorder)
    recorder.flush()
    run, nodes = get_run(execution.run_id)
    status = rv.stored_status(nodes, run.spec)
    assert status["l"]["loop"] == [3, 3] and "loop" not in status["q"]
    assert "loop" not in rv.stored_status(nodes, None)["l"]  # no spec: no bound to show it against


def test_a_flow_node_opened_inside_a_subflow_is_named_by_its_path():
    assert opened_flow("", "m") == "m"
    assert opened_flow("outer", "m") == "outer/m"
    assert opened_flow("outer", "") == ""
