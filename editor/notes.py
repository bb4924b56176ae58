"""Sticky notes: Markdown notes on the canvas, kept in the spec's `layout` under `note:<id>` keys.

Pure edits like `editor.graph` (each returns a new spec). Moving and deleting notes go through
`graph.move` / `graph.delete` with the note's key, like a node's; the runtime never reads notes.
"""

from __future__ import annotations

from typing import Any

from runtime.spec import NOTE_KEY_PREFIX, PipelineSpec, StickyNote

from .graph import EditError

__all__ = ["flow_notes", "add_note", "update_note", "note_key", "NEW_NOTE_TEXT"]

NEW_NOTE_TEXT = "**Note**: double-click to edit (Markdown)."
_CHANGEABLE = ("x", "y", "width", "height", "text")


def note_key(note_id: str) -> str:
    return f"{NOTE_KEY_PREFIX}{note_id}"


def flow_notes(spec: PipelineSpec) -> list[dict[str, Any]]:
    """What the canvas shows: `{key, id, x, y, w, h, text}` per note (`id` is the part of the key after `note:`)."""
    return [{"key": key, "id": key[len(NOTE_KEY_PREFIX):], "x": entry.x, "y": entry.y, "w": entry.width,
             "h": entry.height, "text": entry.text}
            for key, entry in spec.layout.items() if isinstance(entry, StickyNote)]


def add_note(spec: PipelineSpec, x: float, y: float, text: str = NEW_NOTE_TEXT) -> tuple[PipelineSpec, str]:
    """A new note with its top-left corner at (x, y); returns the spec and the note's layout key."""
    n = 1
    while note_key(str(n)) in spec.layout:
        n += 1
    key = note_key(str(n))
    note = StickyNote(x=round(float(x), 1), y=round(float(y), 1), text=text)
    return spec.model_copy(update={"layout": {**spec.layout, key: note}}), key


def update_note(spec: PipelineSpec, key: str, changes: dict[str, Any]) -> PipelineSpec:
    """Change a note's text, position or size (other keys in `changes` are ignored)."""
    note = spec.layout.get(key)
    if not isinstance(note, StickyNote):
        raise EditError(f"There is no sticky note `{key}` in this pipeline (it may have just been deleted).")
    update = {k: changes[k] for k in _CHANGEABLE if k in changes}
    for k in ("x", "y", "width", "height"):
        if k in update:
            update[k] = round(float(update[k]), 1)
    try:
        changed = StickyNote.model_validate({**note.model_dump(), **update})
    except ValueError as exc:
        raise EditError(f"Sticky note `{key}`: {_first_error(exc)}") from None
    if changed == note:
        return spec
    return spec.model_copy(update={"layout": {**spec.layout, key: changed}})


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors(include_url=False)[0]
        return f"`{'.'.join(str(p) for p in first['loc'])}`: {first['msg']}."
    return str(exc)
