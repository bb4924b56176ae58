"""A breakpoint follows its node: renaming a node moves the breakpoints on it (and, for a flow node, those inside
it) to the new path, in every flow node that runs the renamed node's subflow; deleting a node drops them. The
breakpoints live in the real store (SQLite), and a run gets the moved ones."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from editor import breakpoints, graph, subflow_scope
from editor.breakpoint_moves import followed_paths, levels_of, moved_paths
from editor.debugging import debugger_for
from editor.graph import spec_to_dict
from editor.history import History
from editor.state import node_ids
from editor.state.breakpoints import BreakpointsState
from editor.state.pins import PinsState
from runtime import PipelineSpec, api
from runtime.store import pipelines as store
from runtime.testing.flows import flow_registry, nested_flows_spec

SPEC = nested_flows_spec()  # `m` (map) and `s` (subflow) run `each`; `nested` runs `outer`, whose `m2` runs `each`
IDS = ["q", "m/work", "s/work", "nested/m2/work", "nested/summary", "m/1/work", "m/tag", "gone/work"]


def test_each_segment_of_a_path_names_a_node_of_the_pipeline_or_of_a_subflow():
    assert levels_of(SPEC, "q") == [""]
    assert levels_of(SPEC, "nested/m2/work") == ["", "outer", "each"]
    assert levels_of(SPEC, "m/1/work") == ["", None, "each"]  # an item index names no node
    assert levels_of(SPEC, "gone/work") == ["", None]  # past a node the spec has not: nothing to follow


def test_renaming_an_inner_node_moves_its_breakpoints_under_every_flow_node_running_its_subflow():
    assert moved_paths(IDS, SPEC, "each", {"work": "work2"}) == {
        "m/work": "m/work2", "s/work": "s/work2", "nested/m2/work": "nested/m2/work2", "m/1/work": "m/1/work2"}
    assert moved_paths(IDS, SPEC, "outer", {"m2": "inner_map"}) == {"nested/m2/work": "nested/inner_map/work"}
    assert moved_paths(IDS, SPEC, "outer", {"work": "x"}) == {}  # `outer` has no `work`: `m2/work` is in `each`


def test_renaming_a_flow_node_moves_every_breakpoint_inside_it_and_a_top_level_one_moves_too():
    assert moved_paths(IDS, SPEC, "", {"m": "mapped"}) == {
        "m/work": "mapped/work", "m/1/work": "mapped/1/work", "m/tag": "mapped/tag"}
    assert moved_paths(IDS, SPEC, "", {"q": "question"}) == {"q": "question"}
    assert moved_paths(IDS, SPEC, "", {"work": "w"}) == {}  # no top-level `work`: inner namesakes stay


def deleted_paths(scope: str, node_ids: set[str]) -> list[str]:
    """The stored paths that deleting `node_ids` from `scope` ends (`followed_paths`, as the editor asks)."""
    after = subflow_scope.apply(SPEC, scope, lambda spec: graph.delete(spec, node_ids))
    return followed_paths(IDS, SPEC, after, scope, {})[1]


def test_deleting_a_node_drops_the_breakpoints_on_it_and_inside_it():
    assert deleted_paths("", {"nested", "q"}) == ["q", "nested/m2/work", "nested/summary"]
    assert deleted_paths("each", {"tag"}) == ["m/tag"]
    assert deleted_paths("each", {"summary"}) == []  # `nested/summary` is `outer`'s


@pytest.mark.usefixtures("fresh_database")
def test_the_store_moves_breakpoints_keeping_their_order_and_drops_others_in_one_go():
    pid = store.create_pipeline(spec_to_dict(SPEC)).id
    breakpoints.set_breakpoints(pid, ["q", "m/work", "s/work", "m/tag"], True)
    after = breakpoints.follow_breakpoints(pid, lambda _ids: ({"m/work": "m/w", "s/work": "q"}, ["m/tag"])).ids
    assert after == ["q", "m/w"]  # `s/work` -> `q`, already there: one is kept; ages (the order) unchanged
    assert breakpoints.follow_breakpoints(pid, lambda _ids: ({}, [])).ids == ["q", "m/w"]


class Followers:
    """What `editor.get_state` gives `node_ids`: the breakpoints and pins states, running their real code on the real
    store."""

    def __init__(self, flow: str = ""):
        self.debug_told: list[list[str]] = []
        self.breakpoints = SimpleNamespace(_ids=[], _flow=flow, breakpoints={}, get_state=self._get_debug)
        self.breakpoints._take = lambda ids: BreakpointsState._take(self.breakpoints, ids)
        self.breakpoints._follow_node_ids = lambda change: BreakpointsState._follow_node_ids(self.breakpoints, change)
        self.pins = SimpleNamespace(pins={}, shown={}, _top=not flow)
        for name in ("_take", "reload", "_follow_node_ids"):
            method = getattr(PinsState, name)
            setattr(self.pins, name, getattr(method, "fn", method).__get__(self.pins))  # `reload`: an event handler

    async def _get_debug(self, _cls):
        return SimpleNamespace(breakpoints_changed=self.debug_told.append)

    async def get_state(self, cls):
        assert cls in (BreakpointsState, PinsState)
        return self.breakpoints if cls is BreakpointsState else self.pins


def edited(pid: str, before: PipelineSpec, scope: str, edit, followers: Followers) -> SimpleNamespace:
    """The editor after `edit` of the subflow `scope` (what `EditorState._edit` leaves in `_spec`)."""
    return SimpleNamespace(pipeline_id=pid, _spec=subflow_scope.apply(before, scope, edit), get_state=followers.get_state,
                           _history=History())


@pytest.mark.usefixtures("fresh_database")
def test_an_inner_rename_in_the_open_subflow_moves_the_breakpoint_and_the_run_pauses_there():
    pid = store.create_pipeline(spec_to_dict(SPEC)).id
    breakpoints.set_breakpoints(pid, ["m/work", "s/tag", "q"], True)
    followers = Followers(flow="m")
    editor = edited(pid, SPEC, "each", lambda s: graph.rename_node(s, "work", "shout"), followers)
    asyncio.run(node_ids.renamed(editor, SPEC, "each", "work", " shout "))
    assert breakpoints.list_breakpoints(pid) == ["m/shout", "s/tag", "q"]
    assert followers.breakpoints.breakpoints == {"shout": True}  # the dot at the open level `m`
    assert followers.debug_told == [["m/shout", "s/tag", "q"]]  # a paused run's debugger hears of it
    debugger = debugger_for(breakpoints.list_breakpoints(pid), api.compile(editor._spec, flow_registry()))
    assert debugger is not None and debugger.breakpoints == {"m/shout", "s/tag", "q"}


@pytest.mark.usefixtures("fresh_database")
def test_renaming_a_flow_node_at_the_top_moves_the_breakpoints_inside_it():
    pid = store.create_pipeline(spec_to_dict(SPEC)).id
    breakpoints.set_breakpoints(pid, ["nested/m2/work", "m/work", "q"], True)
    editor = edited(pid, SPEC, "", lambda s: graph.rename_node(s, "nested", "deep_map"), Followers())
    asyncio.run(node_ids.renamed(editor, SPEC, "", "nested", "deep_map"))
    assert breakpoints.list_breakpoints(pid) == ["deep_map/m2/work", "m/work", "q"]


@pytest.mark.usefixtures("fresh_database")
def test_deleting_nodes_drops_their_breakpoints_and_a_refused_edit_changes_nothing():
    pid = store.create_pipeline(spec_to_dict(SPEC)).id
    breakpoints.set_breakpoints(pid, ["m/work", "m/tag", "s/work", "q"], True)
    followers = Followers(flow="m")
    editor = edited(pid, SPEC, "each", lambda s: graph.delete(s, ["tag", "nope"]), followers)
    asyncio.run(node_ids.deleted(editor, SPEC, "each", ["tag", "nope"]))
    assert breakpoints.list_breakpoints(pid) == ["m/work", "s/work", "q"]
    editor = edited(pid, SPEC, "", lambda s: graph.delete(s, ["m"]), followers)
    asyncio.run(node_ids.deleted(editor, SPEC, "", ["m"]))
    assert breakpoints.list_breakpoints(pid) == ["s/work", "q"]
    unchanged = SimpleNamespace(pipeline_id=pid, _spec=SPEC, get_state=followers.get_state,  # e.g. a taken id
                                _history=History())
    asyncio.run(node_ids.renamed(unchanged, SPEC, "", "q", "s"))
    asyncio.run(node_ids.deleted(unchanged, SPEC, "", ["q"]))
    assert breakpoints.list_breakpoints(pid) == ["s/work", "q"]
    assert len(followers.debug_told) == 2
