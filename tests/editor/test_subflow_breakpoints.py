"""Breakpoints on the nodes of an open subflow: stored under the path of the flow nodes the breadcrumbs went
through (`editor.subflow_breakpoints`), shown as dots only at their own level, handed to a run's debugger as
`runtime.debug_paths` paths, and their paused nodes shown `paused` on the open subflow's canvas."""

from __future__ import annotations

import asyncio
import time

from editor.debugging import debugger_for
from editor.state.subflow_live import inner_canvas
from editor.subflow_breakpoints import paused_at, paused_for, shown_at, stored_id
from runtime import api
from runtime.live import LiveRun
from runtime.testing.flows import flow_registry, nested_flows_spec

IDS = ["quiet", "m/work", "m/tag", "nested/m2/work", "nested/summary", "m/1/work"]
INPUTS = {"docs": ["a", "b"], "q": "x"}


def test_an_inner_node_is_stored_under_its_flow_path_and_a_top_level_one_under_its_id():
    assert stored_id("", "quiet") == "quiet"
    assert stored_id("m", "work") == "m/work"
    assert stored_id("nested/m2", "work") == "nested/m2/work"


def test_each_level_shows_only_its_own_breakpoints_by_the_ids_on_its_canvas():
    assert shown_at(IDS, "") == {"quiet": True}  # never `work`: the bug was a dot on a top-level namesake
    assert shown_at(IDS, "m") == {"work": True, "tag": True}  # `m/1/work` (one item, from a trace) is no dot
    assert shown_at(IDS, "nested") == {"summary": True}
    assert shown_at(IDS, "nested/m2") == {"work": True}
    assert shown_at(IDS, "s") == {}


def test_paused_run_ids_are_matched_to_the_level_they_are_on_whatever_the_item():
    paused = ["quiet", "m/0/work", "m/2/work", "nested/1/m2/0/work", "s/0/tag"]
    assert paused_at(paused, "") == {"quiet"}
    assert paused_at(paused, "m") == {"work"}
    assert paused_at(paused, "nested/m2") == {"work"}
    assert paused_at(paused, "nested") == set() and paused_at(paused, "s") == {"tag"}
    assert paused_for(paused, "m", "work") == "m/0/work"  # the first item that waits
    assert paused_for(paused, "", "quiet") == "quiet"
    assert paused_for(paused, "", "work") is None and paused_for(paused, "m", "tag") is None


def test_a_run_gets_the_paths_into_its_flow_nodes_and_leaves_out_those_naming_no_node():
    plan = api.compile(nested_flows_spec(), flow_registry())
    debugger = debugger_for(["q", "m/work", "nested/m2/work", "m/gone", "gone/work", "s"], plan)
    assert debugger is not None and debugger.breakpoints == {"q", "m/work", "nested/m2/work", "s"}
    assert debugger_for(["m/gone", "q/work"], plan) is None  # nothing left: no debugger, no per-node cost


async def test_a_live_run_paused_inside_flow_nodes_shows_paused_on_their_subflows_canvas():
    plan = api.compile(nested_flows_spec(), flow_registry())
    debugger = debugger_for(["m/work", "nested/m2/work"], plan)
    view = LiveRun(api.execute(plan, INPUTS, debugger=debugger), pipeline_id=None, consumers=[])
    task = asyncio.create_task(view.drive())
    deadline = time.monotonic() + 10
    while len(view.paused) < 4:  # two items of `m`, and of `nested`'s one `m2` item each
        assert time.monotonic() < deadline, f"timed out; paused: {list(view.paused)}"
        await asyncio.sleep(0.005)
    assert inner_canvas(view, "m")["work"] == {"status": "paused"}
    assert inner_canvas(view, "nested/m2")["work"] == {"status": "paused"}
    assert inner_canvas(view, "s")["work"]["status"] == "succeeded"  # the same subflow, run by another node
    assert inner_canvas(view, "m")["tag"]["status"] == "queued"
    for run_id in list(view.paused):
        debugger.resume(run_id)
    await asyncio.wait_for(task, 10)
    assert view.status == "succeeded" and inner_canvas(view, "m")["work"]["status"] == "succeeded"
