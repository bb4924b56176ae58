"""Quick-connect: the search palette opened by a wire dropped on empty canvas (or `/`), and its pick."""

from __future__ import annotations

from typing import Any

import reflex as rx

from .. import graph, quick_connect
from ..catalog import registry
from .editor import EditorState

__all__ = ["QuickConnectState"]


class QuickConnectState(rx.State):
    # {key, items: [{id, title, category, color, port, description}], error}: the answer to the browser's
    # request `key` (the browser opens the palette at once and shows the items of its latest request)
    offer: dict[str, Any] = {}

    @rx.event
    async def open(self, payload: dict):
        """{key, link?: {node, port, side}}: the components that fit the dragged port (all, without a link)."""
        editor = await self.get_state(EditorState)
        spec = editor.shown_spec()
        key = payload.get("key", 0)
        if spec is None or editor.viewing_run:
            self.offer = {"key": key, "items": [], "error": "This pipeline cannot be edited here."}
            return
        try:
            items = quick_connect.candidates(spec, registry(), quick_connect.Link.of(payload.get("link")))
        except graph.EditError as exc:
            self.offer = {"key": key, "items": [], "error": str(exc)}
            return
        self.offer = {"key": key, "items": items, "error": ""}

    @rx.event
    async def pick(self, payload: dict):
        """{component, x, y, link?}: add the component at the drop point, wired to the dragged port (one edit)."""
        editor = await self.get_state(EditorState)
        reg, link = registry(), quick_connect.Link.of(payload.get("link"))
        component = str(payload.get("component", ""))
        x, y = float(payload.get("x", 0)), float(payload.get("y", 0))
        added: list[str] = []

        def edit(spec):
            spec, node_id = quick_connect.quick_add(spec, reg, component, x, y, link)
            added.append(node_id)
            return spec

        result = await editor._edit(edit)
        editor._focus(added, center=False)
        return result
