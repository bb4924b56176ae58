"""Breakpoints stay with their nodes through undo and redo, group and ungroup (at the top or inside an open
subflow) and the restore of a named version: an undo brings back exactly the breakpoints that were there, a redo
makes the edit's change again, and a breakpoint never outlives its node to land on a later namesake.

The editor's own handlers run here (`EditorState`'s code for editing, renaming, deleting, undo and redo;
`SubflowNavState`'s for group and ungroup; `VersionsState.restore`) on plain objects, with the breakpoints state's
real code on the real store (SQLite), which stays the truth: another tab's breakpoints are read from it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from editor import breakpoints, graph, pins, subflow_scope
from editor.breakpoint_moves import (
    followed_paths,
    grouped_moves,
    inverse,
    moved_paths,
    resolves,
    ungrouped_moves,
)
from editor.catalog import registry
from editor.graph import spec_to_dict
from editor.grouping import group, ungroup
from editor.history import History
from editor.state import node_ids
from editor.state.breakpoints import BreakpointsState
from editor.state.editor import EditorState
from editor.state.inspector import InspectorState
from editor.state.subflow_nav import SubflowNavState
from editor.state.versions import VersionsState
from runtime import PipelineSpec
from runtime.store import pipelines as store
from runtime.testing.flows import nested_flows_spec

from .test_breakpoint_moves import Followers

SPEC = nested_flows_spec()  # `m` (map) and `s` (subflow) run `each`; `nested` runs `outer`, whose `m2` runs `each`


# --- pure functions ---------------------------------------------------------------------------------------------

def test_a_path_resolves_only_while_each_of_its_nodes_exists_at_its_level():
    assert all(resolves(SPEC, p) for p in ["q", "m/work", "m/1/work", "s/tag", "nested/m2/work", "nested/summary"])
    assert not any(resolves(SPEC, p) for p in ["gone", "m/gone", "q/work", "work", "nested/work", "m/1", ""])


def test_group_and_ungroup_move_paths_by_prefix_and_their_inverse_moves_them_back():
    grouped = group(SPEC, registry(), ["m", "s"])  # `m`, `s` -> `subflow`, running the new subflow `group`
    moves = grouped_moves(SPEC, ["m", "s", "ghost"], grouped.node_id)
    assert moves == {"m": "subflow/m", "s": "subflow/s"}  # a selected id that is no node moves nothing
    ids = ["m/work", "m/1/work", "s", "q", "nested/m2/work"]
    assert moved_paths(ids, SPEC, "", moves) == {"m/work": "subflow/m/work", "m/1/work": "subflow/m/1/work",
                                                  "s": "subflow/s"}
    back = moved_paths(["subflow/m/1/work", "subflow/0/s", "subflow", "q"], grouped.spec, "", inverse(moves))
    assert back == {"subflow/m/1/work": "m/1/work", "subflow/0/s": "s"}  # an item index of `subflow` is allowed
    assert followed_paths(["subflow", "subflow/m/work", "q"], grouped.spec, SPEC, "", inverse(moves)) == (
        {"subflow/m/work": "m/work"}, ["subflow"])  # the flow node an undo of the group takes away: ended


def test_ungroup_moves_each_inner_node_to_the_id_it_gets_back_outside_and_ends_the_rest():
    spec = graph.rename_node(SPEC, "q", "work")  # `work` taken at the top: the inner `work` comes back as `work_2`
    after, brought = ungroup(spec, "s")
    moves = ungrouped_moves(spec, "s", brought)
    assert moves == {"s/work": "work_2", "s/tag": "tag"}
    ids = ["s/work", "s/tag", "s/doc", "s", "m/work", "work"]
    assert followed_paths(ids, spec, after, "", moves) == (
        {"s/work": "work_2", "s/tag": "tag"}, ["s/doc", "s"])  # the io nodes inside and the flow node end


def test_a_path_that_named_nothing_before_the_edit_stays():
    assert followed_paths(["stale/work", "m/work"], SPEC, graph.delete(SPEC, ["m"], []), "", {}) == ({}, ["m/work"])


def test_a_path_ends_when_a_node_along_it_is_of_another_component_or_a_flow_node_on_it_runs_another_subflow():
    other = graph.set_param(nested_flows_spec(work="demo.length"), "m", "subflow", "outer")  # `work`: not an echo
    ids = ["m/summary", "m/tag", "s/work", "s/tag", "nested/m2/work", "nested/m2/tag", "q"]
    assert followed_paths(ids, SPEC, other, "", {}) == (  # `outer` has a `summary` too, but `m/summary` was `each`'s
        {}, ["m/summary", "m/tag", "s/work", "nested/m2/work"])
    assert followed_paths(["s/work", "s/tag"], SPEC, graph.rename_node(other, "s", "sub"), "", {"s": "sub"}) == (
        {"s/tag": "sub/tag"}, ["s/work"])  # a moved path is checked at its new place


def test_each_undo_step_keeps_its_own_notes_through_undo_redo_and_a_new_edit():
    h = History()
    h.record("s0", now=0)
    h.notes()["x"] = 1
    h.record("s1", now=10, key="k")
    h.record("s1b", now=10.5, key="k")  # coalesced: the same step, the same notes
    h.notes()["y"] = 2
    assert h.undo("s2") == "s1" and h.notes(undone=True) == {"y": 2}
    assert h.undo("s1") == "s0" and h.notes(undone=True) == {"x": 1}
    assert h.redo("s0") == "s1" and h.notes() == {"x": 1}
    h.record("s1", now=20)  # a new edit forgets the redo stack and its notes
    assert h.notes() == {} and h.future_notes == [] and len(h.past_notes) == len(h.past) == 2


# --- the editor's handlers ---------------------------------------------------------------------------------------

class Editor:
    """`EditorState`'s editing, undo and redo code on a plain object: `_replace` only takes the spec (what the canvas
    is sent is another test's), `get_state` gives the breakpoints state of `Followers`."""

    _edit = EditorState._edit
    _travel = EditorState._travel
    rename_node = EditorState.rename_node.fn
    on_delete = EditorState.on_delete.fn
    undo = EditorState.undo.fn
    redo = EditorState.redo.fn
    replace_spec = EditorState.replace_spec.fn

    def __init__(self, spec: PipelineSpec, *, scope: str = "", flow: str = ""):
        self.pipeline_id = store.create_pipeline(spec_to_dict(spec)).id
        self._spec, self._scope, self._history = spec, scope, History()
        self.viewing_run, self.selected_nodes, self.save_status = "", [], "saved"
        self.followers = Followers(flow=flow)

    async def _replace(self, spec: PipelineSpec, *, keep_drafts: bool = False) -> None:
        self._spec = spec

    def shown_spec(self) -> PipelineSpec | None:
        return subflow_scope.view(self._spec, self._scope)

    def _focus(self, ids: list[str], *, center: bool) -> None:
        self.selected_nodes = list(ids)

    async def get_state(self, cls: type) -> Any:
        return self.followers.breakpoints if cls is BreakpointsState else await self.followers.get_state(cls)

    def run(self, handler: str, *args: Any) -> Any:
        return asyncio.run(getattr(self, handler)(*args))

    def set(self, *ids: str) -> None:
        breakpoints.set_breakpoints(self.pipeline_id, list(ids), True)

    @property
    def stored(self) -> list[str]:
        return breakpoints.list_breakpoints(self.pipeline_id)


def nav(editor: Editor, handler: str) -> Any:
    """`SubflowNavState.group` or `.ungroup` of the editor's selection."""
    async def get_state(_cls):
        return editor

    state = SimpleNamespace(get_state=get_state, _edited=lambda *a: SubflowNavState._edited(state, *a))
    return asyncio.run(getattr(SubflowNavState, handler).fn(state))


class Inspector:
    """`InspectorState`'s param editing on a plain object: the form of the node `node_id` of the level `editor`
    shows (what is shown after an edit is another test's)."""

    _fields = InspectorState._fields
    _target = InspectorState._target
    _check = InspectorState._check
    _set = InspectorState._set
    set_param = InspectorState.set_param.fn

    def __init__(self, editor: Editor, node_id: str):
        self.editor, self.node_id, self._drafts, self._errors, self.policy_fields = editor, node_id, {}, {}, []
        node = editor.shown_spec().node(node_id)
        self.param_fields = self._fields("param", registry().get(node.component, node.version).params_model,
                                         node.params)

    async def get_state(self, _cls: type) -> Editor:
        return self.editor

    def show(self, *_args: Any, **_kwargs: Any) -> None:
        pass


def set_param(editor: Editor, node_id: str, name: str, text: str) -> Any:
    """What the inspector's field of the param `name` of the node `node_id` sends, typed in."""
    return asyncio.run(Inspector(editor, node_id).set_param(name, text))


pytestmark = pytest.mark.usefixtures("fresh_database")


def test_undo_of_a_rename_moves_the_breakpoints_back_and_redo_moves_them_again():
    editor = Editor(SPEC)
    editor.set("q", "m/work")
    editor.run("rename_node", "m", "mapped")
    assert editor.stored == ["q", "mapped/work"]
    breakpoints.set_breakpoints(editor.pipeline_id, ["mapped/tag"], True)  # another tab, on the renamed node
    editor.run("undo")
    assert editor._spec == SPEC and editor.stored == ["q", "m/work", "m/tag"]
    assert editor.followers.breakpoints.breakpoints == {"q": True}  # the dots at the top
    editor.run("redo")
    assert editor.stored == ["q", "mapped/work", "mapped/tag"]
    assert editor.followers.debug_told[-1] == ["q", "mapped/work", "mapped/tag"]  # a paused run's debugger too


def test_undo_of_a_delete_brings_its_breakpoints_back_in_their_order_and_redo_drops_them_again():
    editor = Editor(SPEC)
    editor.set("m/work", "q", "m/tag", "s/work")
    editor.run("on_delete", {"nodes": ["m", "q"], "edges": []})
    assert editor.stored == ["s/work"]
    editor.run("undo")
    assert editor.stored == ["m/work", "q", "m/tag", "s/work"]
    editor.run("redo")
    assert editor.stored == ["s/work"]
    editor.run("undo")  # each undo of the step brings back what its last redo dropped
    assert editor.stored == ["m/work", "q", "m/tag", "s/work"]


def test_undo_of_an_added_node_ends_its_breakpoint_and_a_later_node_of_that_id_does_not_get_it():
    editor = Editor(SPEC)
    add = lambda s: graph.add_node(s, registry(), "io.output", 0, 0)[0]  # noqa: E731
    asyncio.run(editor._edit(add))
    added = next(n.id for n in editor._spec.nodes if SPEC.node(n.id) is None)
    editor.set(added, "q")
    editor.run("undo")
    assert editor.stored == ["q"]
    editor.run("redo")
    assert editor.stored == [added, "q"]  # the redo brings the node back, and its breakpoint
    editor.run("undo")
    asyncio.run(editor._edit(add))  # a new node, given the same id
    assert editor._spec.node(added) is not None and editor.stored == ["q"]


def test_group_moves_the_breakpoints_inside_the_new_flow_node_ungroup_moves_them_out_and_undo_restores():
    editor = Editor(SPEC)
    editor.set("m/work", "q", "s")
    editor.selected_nodes = ["m", "s"]
    nav(editor, "group")
    assert editor.selected_nodes == ["subflow"] and editor.stored == ["subflow/m/work", "q", "subflow/s"]
    editor.set("subflow")  # on the new flow node itself
    editor.run("undo")
    assert editor._spec == SPEC and editor.stored == ["m/work", "q", "s"]  # `subflow` is gone, and its breakpoint
    editor.run("redo")
    assert editor.stored == ["subflow/m/work", "q", "subflow/s", "subflow"]
    nav(editor, "ungroup")
    assert editor.stored == ["m/work", "q", "s"]
    editor.run("undo")
    assert editor.stored == ["subflow/m/work", "q", "subflow/s", "subflow"]


def test_a_group_inside_an_open_subflow_moves_the_breakpoints_under_every_flow_node_running_it():
    editor = Editor(SPEC, scope="each", flow="m")
    editor.set("m/work", "s/tag", "nested/m2/work", "m/doc")
    editor.selected_nodes = ["work", "tag"]
    nav(editor, "group")
    inner = editor.selected_nodes[0]
    assert editor.stored == [f"m/{inner}/work", f"s/{inner}/tag", f"nested/m2/{inner}/work", "m/doc"]
    assert editor.followers.breakpoints.breakpoints == {"doc": True}  # the dots at the open level `m`
    editor.run("undo")
    assert editor.stored == ["m/work", "s/tag", "nested/m2/work", "m/doc"]
    editor.run("redo")
    editor.selected_nodes = [inner]
    nav(editor, "ungroup")
    assert editor.stored == ["m/work", "s/tag", "nested/m2/work", "m/doc"]
    assert editor.followers.breakpoints.breakpoints == {"work": True, "doc": True}


def test_restoring_a_version_ends_the_breakpoints_of_nodes_it_has_not_and_undo_brings_them_back():
    editor = Editor(SPEC)
    editor.set("m/work", "q", "s/tag")
    older = graph.delete(SPEC, ["m"], [])
    version = store.save_version(editor.pipeline_id, "without m", spec_to_dict(older))

    async def get_state(_cls):
        return editor

    asyncio.run(VersionsState.restore.fn(SimpleNamespace(get_state=get_state, open=True), version.id))
    assert editor._spec.node("m") is None and editor.stored == ["q", "s/tag"]
    editor.run("undo")
    assert editor.stored == ["m/work", "q", "s/tag"]
    editor.run("redo")
    editor.run("rename_node", "s", "m")  # a later node named `m` (running `each` too) does not get `m/work`
    assert editor.stored == ["q", "m/tag"]


def test_restoring_a_version_whose_namesakes_are_other_nodes_ends_their_breakpoints_and_pins_undo_brings_them_back():
    editor = Editor(SPEC)
    editor.set("m/summary", "s/work", "s/tag", "q")
    for node_id in ("m", "s"):
        pins.set_pin(editor.pipeline_id, node_id, {"summary": node_id}, "typed")
    older = graph.set_param(nested_flows_spec(work="demo.length"), "m", "subflow", "outer")  # `m`: another subflow
    version = store.save_version(editor.pipeline_id, "other nodes", spec_to_dict(older))

    async def get_state(_cls):
        return editor

    asyncio.run(VersionsState.restore.fn(SimpleNamespace(get_state=get_state, open=True), version.id))
    assert editor.stored == ["s/tag", "q"] and set(pins.list_pins(editor.pipeline_id)) == {"s"}  # `m`'s is no run's
    editor.run("undo")
    assert editor.stored == ["m/summary", "s/work", "s/tag", "q"] and set(pins.list_pins(editor.pipeline_id)) == {"m", "s"}
    editor.run("redo")
    assert editor.stored == ["s/tag", "q"] and set(pins.list_pins(editor.pipeline_id)) == {"s"}


def test_giving_a_flow_node_another_subflow_ends_the_breakpoints_and_pins_inside_it_and_undo_brings_them_back():
    editor = Editor(SPEC)
    editor.set("m/summary", "m/work", "s/work", "q")
    pins.set_pin(editor.pipeline_id, "m", {"summary": "each's"}, "typed")
    set_param(editor, "m", "subflow", "oute")
    set_param(editor, "m", "subflow", "outer")  # typed on: the same undo step
    assert editor._spec.node("m").params["subflow"] == "outer"
    assert editor.stored == ["s/work", "q"] and pins.list_pins(editor.pipeline_id) == {}  # not `outer`'s `summary`
    assert editor.followers.debug_told[-1] == ["s/work", "q"]
    editor.set("m/summary")  # on `outer`'s
    editor.run("undo")
    assert editor._spec == SPEC and editor.stored == ["m/summary", "m/work", "s/work", "q"]
    assert pins.list_pins(editor.pipeline_id)["m"].outputs == {"summary": "each's"}
    editor.run("redo")
    assert editor.stored == ["s/work", "q", "m/summary"] and pins.list_pins(editor.pipeline_id) == {}


def test_typing_a_flow_nodes_subflow_back_to_the_one_its_undo_step_began_with_brings_its_breakpoints_back():
    editor = Editor(SPEC)
    editor.set("m/summary", "m/work", "q")
    pins.set_pin(editor.pipeline_id, "m", {"summary": "each's"}, "typed")
    set_param(editor, "m", "subflow", "eac")  # no such subflow yet: the paths inside `m` end
    assert editor.stored == ["q"] and pins.list_pins(editor.pipeline_id) == {}
    set_param(editor, "m", "subflow", "each")  # typed back within the same undo step
    assert editor._history.can_undo and editor._spec.node("m").params["subflow"] == "each"
    assert editor.stored == ["m/summary", "m/work", "q"] and set(pins.list_pins(editor.pipeline_id)) == {"m"}
    set_param(editor, "m", "subflow", "outer")  # typed on: they end again, and an undo brings them back once
    assert editor.stored == ["q"]
    editor.run("undo")
    assert editor._spec == SPEC and editor.stored == ["m/summary", "m/work", "q"]  # each keeps its age
    assert pins.list_pins(editor.pipeline_id)["m"].outputs == {"summary": "each's"}


def test_another_subflow_for_a_flow_node_inside_an_open_subflow_ends_the_paths_through_it_and_no_other_param_tells(
        monkeypatch: pytest.MonkeyPatch):
    editor = Editor(SPEC, scope="outer", flow="nested")
    editor.set("nested/m2/work", "m/work", "nested/summary")
    set_param(editor, "m2", "over", "docs")  # an ordinary param: the followers are not asked
    set_param(editor, "m2", "subflow", "each")  # no change
    assert editor.followers.debug_told == [] and editor.stored == ["nested/m2/work", "m/work", "nested/summary"]
    set_param(editor, "m2", "subflow", "outer")
    assert editor.stored == ["m/work", "nested/summary"]
    told: list[node_ids.NodeIdChange] = []

    async def tell(_editor: Any, change: node_ids.NodeIdChange) -> None:
        told.append(change)

    monkeypatch.setattr(node_ids, "_tell", tell)
    for name, text in [("over", "doc"), ("concurrency", "3"), ("on_item_error", "skip")]:
        set_param(editor, "m2", name, text)
    assert told == [] and editor._spec.subflows["outer"].node("m2").params["concurrency"] == 3
