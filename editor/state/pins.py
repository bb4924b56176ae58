"""The open pipeline's pins (node id -> where the pinned output came from): the canvas marks them, the
inspector shows a node's, a run uses them.

Pins are on the pipeline's own nodes (`editor.pins`): the canvas marks them at the top level only, never on a node
of an open subflow that shares an id with one. They follow their nodes (`editor.state.node_ids`).
"""

from __future__ import annotations

import asyncio

import reflex as rx

from .. import pins as pin_store
from . import run_data
from .editor import EditorState, follows_editor
from .node_ids import NodeIdChange, follow_stored, follows_node_ids

__all__ = ["PinsState"]

_DROPPED = "pins"  # the key of an undo step's notes under which the pins it deleted are kept


def dropped_pins(notes: dict) -> list[str]:
    """The nodes whose pins the undo step with these `notes` (`History.notes()`) dropped."""
    return [row["node_id"] for row in notes.get(_DROPPED, [])]


def pins_dropped_notice(notes: dict, what: str) -> rx.event.EventSpec | None:
    """A toast naming the pins that `what` (a group, an ungroup) dropped though their nodes live on elsewhere."""
    lost = dropped_pins(notes)
    if not lost:
        return None
    names = ", ".join(f"`{node_id}`" for node_id in lost)
    return rx.toast.info(f"{what} removed the pinned output of {names}: pins apply to the pipeline's own nodes "
                         "(pin the flow node instead). Ctrl+Z brings it back.", duration=6000)


@follows_node_ids
@follows_editor
class PinsState(rx.State):
    pins: dict[str, str] = {}  # every pin of the pipeline (each run started here reads the store first)
    shown: dict[str, str] = {}  # those the canvas marks: `pins` at the top level, none inside an open subflow
    _top: bool = True  # the canvas shows the pipeline's own nodes

    async def reload(self, pipeline_id: str) -> dict[str, pin_store.PinRecord]:
        """Take the pipeline's stored pins (another tab may have changed them); returns them, as read."""
        rows = await run_data.read_pins(pipeline_id)
        self._take({node_id: row.origin for node_id, row in rows.items()})
        return rows

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """A subflow opened or closed: its nodes have no pins to mark."""
        top = not editor._scope
        if top != self._top:
            self._top = top
            self._take(self.pins)

    def _take(self, pins: dict[str, str]) -> None:
        if pins != self.pins:
            self.pins = pins
        shown = pins if self._top else {}
        if shown != self.shown:
            self.shown = shown

    async def _follow_node_ids(self, change: NodeIdChange) -> None:
        """Nodes renamed, deleted, grouped or ungrouped, or such an edit undone or redone: their pins move, go, or come
        back, in the table (another tab's pins too)."""
        followed = await asyncio.to_thread(follow_stored, change, pin_store.follow_pins, _DROPPED,
                                           pin_store.followed_pins)
        if followed.changed:
            await self.reload(change.pipeline_id)
