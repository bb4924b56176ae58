"""Undo/redo as two stacks of spec snapshots (JSON text), kept on the server per editor tab.

Edits with the same `key` arriving close together (typing into one param field) coalesce into one
undo step, so Ctrl+Z undoes a whole word rather than one keystroke.

Each step has notes beside its snapshot (`notes`): what else the edit changed that an undo or redo must follow,
such as the breakpoints moved by a rename (`editor.state.node_ids`). They travel with the step between the stacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History", "COALESCE_S", "LIMIT"]

COALESCE_S = 1.5
LIMIT = 100


@dataclass
class History:
    past: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    last_key: str | None = None
    last_time: float = 0.0
    past_notes: list[dict[str, Any]] = field(default_factory=list)  # one per entry of `past` ...
    future_notes: list[dict[str, Any]] = field(default_factory=list)  # ... and of `future`

    def record(self, before: str, *, now: float, key: str | None = None) -> None:
        """Remember `before` (the spec as it was) ahead of an edit; a new edit forgets the redo stack."""
        self.future.clear()
        self.future_notes.clear()
        if key is not None and key == self.last_key and now - self.last_time < COALESCE_S and self.past:
            self.last_time = now
            return
        self.past.append(before)
        self.past_notes.append({})
        del self.past[:-LIMIT]
        del self.past_notes[:-LIMIT]
        self.last_key, self.last_time = key, now

    def undo(self, current: str) -> str | None:
        """The spec to go back to, or None when there is nothing to undo."""
        if not self.past:
            return None
        self.future.append(current)
        self.future_notes.append(self.past_notes.pop() if self.past_notes else {})
        self.last_key = None
        return self.past.pop()

    def redo(self, current: str) -> str | None:
        if not self.future:
            return None
        self.past.append(current)
        self.past_notes.append(self.future_notes.pop() if self.future_notes else {})
        self.last_key = None
        return self.future.pop()

    def notes(self, *, undone: bool = False) -> dict[str, Any]:
        """The notes of the step last recorded or redone (`undone`: last undone), to read and change in place."""
        stack = self.future_notes if undone else self.past_notes
        return stack[-1] if stack else {}

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)

    def clear(self) -> None:
        self.past.clear()
        self.future.clear()
        self.past_notes.clear()
        self.future_notes.clear()
        self.last_key = None
