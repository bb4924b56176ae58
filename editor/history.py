"""Undo/redo as two stacks of spec snapshots (JSON text), kept on the server per editor tab.

Edits with the same `key` arriving close together (typing into one param field) coalesce into one
undo step, so Ctrl+Z undoes a whole word rather than one keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History", "COALESCE_S", "LIMIT"]

COALESCE_S = 1.5
LIMIT = 100


@dataclass
class History:
    past: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    last_key: str | None = None
    last_time: float = 0.0

    def record(self, before: str, *, now: float, key: str | None = None) -> None:
        """Remember `before` (the spec as it was) ahead of an edit; a new edit forgets the redo stack."""
        self.future.clear()
        if key is not None and key == self.last_key and now - self.last_time < COALESCE_S and self.past:
            self.last_time = now
            return
        self.past.append(before)
        del self.past[:-LIMIT]
        self.last_key, self.last_time = key, now

    def undo(self, current: str) -> str | None:
        """The spec to go back to, or None when there is nothing to undo."""
        if not self.past:
            return None
        self.future.append(current)
        self.last_key = None
        return self.past.pop()

    def redo(self, current: str) -> str | None:
        if not self.future:
            return None
        self.past.append(current)
        self.last_key = None
        return self.future.pop()

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)

    def clear(self) -> None:
        self.past.clear()
        self.future.clear()
        self.last_key = None
