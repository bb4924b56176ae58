"""A pinned output follows its node like a breakpoint: a rename moves it, a delete, a group into a subflow or the
restore of a version without the node ends it, and the undo of each brings it back with its outputs; a redo makes
the edit's change again. A pin never lands on a node that takes the id later, never on a node inside a subflow (a
run uses pins on the pipeline's own nodes only), and a run gets the moved one.

The editor's own handlers run on plain objects (`test_breakpoint_undo.Editor`), with the pins state's real code on
the real store, which stays the truth: another tab's pins are read from it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from editor import graph, pins
from editor.graph import spec_to_dict
from editor.state import run_data
from editor.state.node_run import NodeRunState
from editor.state.pins import PinsState
from editor.state.versions import VersionsState
from runtime import api
from runtime.store import pipelines as store
from runtime.testing.flows import flow_registry, nested_flows_spec

from .test_breakpoint_undo import Editor, nav

SPEC = nested_flows_spec()  # `m` (map) and `s` (subflow) run `each`; `nested` runs `outer`, whose `m2` runs `each`

pytestmark = pytest.mark.usefixtures("fresh_database")


def pin(editor: Editor, node_id: str, text: str = "mocked") -> None:
    pins.set_pin(editor.pipeline_id, node_id, {"summary": text}, f"typed {text}")


def stored(editor: Editor) -> dict[str, tuple[dict, str]]:
    return {n: (row.outputs, row.origin) for n, row in pins.list_pins(editor.pipeline_id).items()}


def test_renaming_a_pinned_node_moves_its_pin_undo_moves_it_back_and_redo_again():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    pin(editor, "m", "two")
    editor.run("rename_node", "s", "sub")
    assert stored(editor) == {"sub": ({"summary": "one"}, "typed one"), "m": ({"summary": "two"}, "typed two")}
    assert editor.followers.pins.pins == {"sub": "typed one", "m": "typed two"}  # the canvas marks `sub`
    pins.set_pin(editor.pipeline_id, "sub", {"summary": "three"}, "run 1234")  # another tab re-pins the renamed node
    editor.run("undo")
    assert stored(editor) == {"s": ({"summary": "three"}, "run 1234"), "m": ({"summary": "two"}, "typed two")}
    assert editor.followers.pins.shown == {"s": "run 1234", "m": "typed two"}
    editor.run("redo")
    assert set(stored(editor)) == {"sub", "m"}


def test_a_run_uses_the_pin_under_the_node_s_new_id():
    editor = Editor(SPEC)
    pin(editor, "s", "pinned reply")
    editor.run("rename_node", "s", "sub")
    plan = api.compile(editor._spec, flow_registry())
    presets, problems = run_data._presets(plan, editor.pipeline_id, {}, None, "")
    assert problems == [] and presets["pinned"] == {"sub": {"summary": "pinned reply"}}


def test_deleting_a_pinned_node_drops_its_pin_undo_brings_it_back_and_a_later_namesake_does_not_get_it():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    pin(editor, "m", "two")
    editor.run("on_delete", {"nodes": ["s"], "edges": []})
    assert set(stored(editor)) == {"m"} and editor.followers.pins.pins == {"m": "typed two"}
    editor.run("undo")
    assert stored(editor) == {"s": ({"summary": "one"}, "typed one"), "m": ({"summary": "two"}, "typed two")}
    editor.run("redo")
    assert set(stored(editor)) == {"m"}
    editor.run("rename_node", "m", "s")  # a later node named `s` has its own pin (`m`'s, moved), not the dropped one
    assert stored(editor) == {"s": ({"summary": "two"}, "typed two")}
    editor.run("on_delete", {"nodes": ["s"], "edges": []})
    asyncio.run(editor._edit(lambda spec: graph.add_node(spec, flow_registry(), "flow.subflow", 0, 0)[0]))
    added = next(n.id for n in editor._spec.nodes if SPEC.node(n.id) is None)
    asyncio.run(editor._edit(lambda spec: graph.rename_node(spec, added, "s")))  # a new node takes the id
    assert editor._spec.node("s") is not None and stored(editor) == {}


def toasts(result) -> list[str]:
    """The messages of the toasts among a handler's returned events."""
    events = result if isinstance(result, list) else [result]
    return [str(e) for e in events if e is not None and "toast" in str(e)]


def test_grouping_nothing_pinned_tells_nothing():
    editor = Editor(SPEC)
    pin(editor, "nested", "two")
    editor.selected_nodes = ["m", "s"]
    assert toasts(nav(editor, "group")) == []


def test_grouping_a_pinned_node_ends_its_pin_as_no_run_uses_pins_inside_a_subflow_and_undo_brings_it_back():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    pin(editor, "nested", "two")
    editor.selected_nodes = ["m", "s"]
    told = toasts(nav(editor, "group"))
    assert len(told) == 1 and "`s`" in told[0] and "`nested`" not in told[0] and "Ctrl+Z" in told[0], told
    assert editor.selected_nodes == ["subflow"]
    assert stored(editor) == {"nested": ({"summary": "two"}, "typed two")}  # no `subflow/s` that no run would use
    editor.run("undo")
    assert stored(editor) == {"s": ({"summary": "one"}, "typed one"), "nested": ({"summary": "two"}, "typed two")}
    editor.run("redo")
    assert set(stored(editor)) == {"nested"}
    nav(editor, "ungroup")  # `s` comes back out: unpinned (its pin is the group's, for its undo)
    assert editor._spec.node("s") is not None and set(stored(editor)) == {"nested"}


def test_ungrouping_a_pinned_flow_node_ends_its_pin_and_undo_brings_it_back():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    editor.selected_nodes = ["s"]
    told = toasts(nav(editor, "ungroup"))
    assert len(told) == 1 and "`s`" in told[0], told
    assert editor._spec.node("s") is None and stored(editor) == {}
    editor.run("undo")
    assert stored(editor) == {"s": ({"summary": "one"}, "typed one")}


def test_edits_inside_an_open_subflow_leave_the_pins_alone_and_its_nodes_show_none():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    asyncio.run(editor._edit(lambda spec: graph.rename_node(spec, "q", "work")))  # a top-level `work`, pinned
    pin(editor, "work", "two")
    asyncio.run(editor.followers.pins.reload(editor.pipeline_id))  # what pinning it in the inspector does
    editor._scope = "each"  # the subflow `each` is open: it has a `work` of its own
    asyncio.run(PinsState.follow_editor.fn(editor.followers.pins, editor, clear=True))
    assert editor.followers.pins.shown == {} and set(editor.followers.pins.pins) == {"s", "work"}
    editor.run("rename_node", "work", "shout")
    editor.run("on_delete", {"nodes": ["tag"], "edges": []})
    assert set(stored(editor)) == {"s", "work"}
    editor._scope = ""
    asyncio.run(PinsState.follow_editor.fn(editor.followers.pins, editor, clear=True))
    assert editor.followers.pins.shown == {"s": "typed one", "work": "typed two"}


def test_restoring_a_version_drops_the_pins_of_nodes_it_has_not_and_undo_brings_them_back():
    editor = Editor(SPEC)
    pin(editor, "s", "one")
    pin(editor, "m", "two")
    version = store.save_version(editor.pipeline_id, "without s", spec_to_dict(graph.delete(SPEC, ["s"], [])))

    async def get_state(_cls):
        return editor

    asyncio.run(VersionsState.restore.fn(SimpleNamespace(get_state=get_state, open=True), version.id))
    assert editor._spec.node("s") is None and set(stored(editor)) == {"m"}
    editor.run("undo")
    assert stored(editor) == {"s": ({"summary": "one"}, "typed one"), "m": ({"summary": "two"}, "typed two")}
    editor.run("redo")
    editor.run("rename_node", "m", "s")  # a later node named `s` does not get the dropped pin
    assert stored(editor) == {"s": ({"summary": "two"}, "typed two")}


def test_a_node_inside_a_subflow_cannot_be_pinned_as_no_run_would_use_it():
    editor = Editor(SPEC, scope="each")

    async def get_state(_cls):
        return editor

    inner = SimpleNamespace(get_state=get_state, node_id="m/0/work")  # the inspector on an item of `m`'s run
    toast = asyncio.run(NodeRunState._pin(inner, {"value": "w:x"}, "run 1234"))
    assert "a run uses none inside a subflow" in str(toast) and stored(editor) == {}
