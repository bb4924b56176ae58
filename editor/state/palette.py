"""The palette: installed components grouped by category, a search box, and plugins that failed to load."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..catalog import registry
from ..views import load_problems, palette_groups

__all__ = ["PaletteState"]


class PaletteState(rx.State):
    query: str = ""
    groups: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = []
    count: int = 0

    @rx.event
    def load(self):
        reg = registry()
        self.groups = palette_groups(reg, self.query)
        self.problems = load_problems(reg)
        self.count = sum(len(g["items"]) for g in self.groups)

    @rx.event
    def set_query(self, text: str):
        self.query = text
        self.load()
