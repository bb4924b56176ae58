"""Sticky notes as spec edits: add, edit, resize, move and delete, all in `layout`, none seen by the runtime."""

from __future__ import annotations

import pytest

from editor import graph, notes
from editor.graph import EditError
from runtime import validate
from runtime.spec import StickyNote


def test_notes_get_free_keys_and_are_shown_with_their_text_and_size(registry, empty):
    spec, first = notes.add_note(empty, 10.04, -20)
    spec, second = notes.add_note(spec, 0, 0, text="# Two")
    assert (first, second) == ("note:1", "note:2")
    assert notes.flow_notes(spec) == [
        {"key": "note:1", "id": "1", "x": 10.0, "y": -20.0, "w": 240.0, "h": 140.0, "text": notes.NEW_NOTE_TEXT},
        {"key": "note:2", "id": "2", "x": 0.0, "y": 0.0, "w": 240.0, "h": 140.0, "text": "# Two"}]
    assert empty.layout == {}
    assert validate(spec, registry) == validate(empty, registry)  # the runtime sees no notes


def test_editing_resizing_moving_and_deleting_a_note(registry, empty):
    spec, _ = graph.add_node(empty, registry, "demo.echo", 0, 0)
    spec, key = notes.add_note(spec, 0, -200)
    spec = notes.update_note(spec, key, {"text": "**bold**", "width": 320.26, "height": 90, "ignored": 1})
    note = spec.layout[key]
    assert isinstance(note, StickyNote) and (note.text, note.width, note.height) == ("**bold**", 320.3, 90)
    moved = graph.move(spec, {key: (50, 60), "echo": (5, 5)})
    assert moved.layout[key] == note.model_copy(update={"x": 50.0, "y": 60.0})  # text and size kept
    assert graph.positions(moved) == {"echo": (5.0, 5.0)}  # notes are not nodes
    gone = graph.delete(moved, [key])
    assert key not in gone.layout and [n.id for n in gone.nodes] == ["echo"]
    assert notes.update_note(spec, key, {"text": "**bold**"}) is spec  # no change, no new spec


def test_a_bad_note_edit_says_what_is_wrong(empty):
    spec, key = notes.add_note(empty, 0, 0)
    with pytest.raises(EditError, match="There is no sticky note `note:9`"):
        notes.update_note(spec, "note:9", {"text": "x"})
    with pytest.raises(EditError, match="Sticky note `note:1`: `width`: Input should be greater than 0"):
        notes.update_note(spec, key, {"width": 0})
