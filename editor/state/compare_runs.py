"""History: pick two runs and compare them node by node (`editor.run_compare`); the nodes whose outputs differ
are outlined on the canvas."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from ..run_compare import NodeDiff, compare_nodes, differing_nodes
from . import run_data
from .editor import EditorState, follows_editor
from .outlines import OutlineState

__all__ = ["CompareRunsState"]


def _nodes(record: tuple[Any, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {node_id: {"status": n.status, "outputs": n.outputs} for node_id, n in record[1].items()}


def _order(record: tuple[Any, dict[str, Any]]) -> list[str]:
    return [n["id"] for n in (record[0].spec or {}).get("nodes", []) if isinstance(n, dict) and "id" in n]


@follows_editor
class CompareRunsState(rx.State):
    selected: list[str] = []  # at most two run ids, in the order they were picked (A, B)
    run_a: str = ""
    run_b: str = ""
    diffs: list[NodeDiff] = []
    differing: int = 0
    error: str = ""
    _pipeline_id: str = ""

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        if editor.pipeline_id != self._pipeline_id:  # another pipeline's history: nothing picked
            self._pipeline_id = editor.pipeline_id
            if self.selected or self.diffs:
                self.selected, self.diffs, self.run_a, self.run_b, self.differing, self.error = [], [], "", "", 0, ""

    @rx.event
    def toggle(self, run_id: str):
        """Pick or unpick a run; picking a third drops the first picked."""
        if run_id in self.selected:
            self.selected = [r for r in self.selected if r != run_id]
        else:
            self.selected = [*self.selected, run_id][-2:]

    @rx.event
    async def compare(self):
        if len(self.selected) != 2:
            self.error = "Pick two runs in the list (the boxes on the left) to compare them."
            return None
        a_id, b_id = self.selected
        a, b = await asyncio.gather(run_data.read_run(a_id), run_data.read_run(b_id))
        missing = [run_id for run_id, record in ((a_id, a), (b_id, b)) if record is None]
        if missing or a is None or b is None:
            self.error = f"Run `{missing[0]}` is not in the history any more."
            return None
        self.diffs = compare_nodes(_nodes(a), _nodes(b), order=_order(b) + _order(a))
        outlines = differing_nodes(self.diffs)
        self.run_a, self.run_b, self.differing, self.error = a_id, b_id, len(outlines), ""
        (await self.get_state(OutlineState)).show(outlines, "runs")
        return None

    @rx.event
    async def close(self):
        self.diffs, self.run_a, self.run_b, self.differing, self.error = [], "", "", 0, ""
        outlines = await self.get_state(OutlineState)
        if outlines.source == "runs":
            outlines.show({}, "")
