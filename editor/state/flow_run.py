"""The inspector's list of a map node's items (a loop node's iterations) in the run this tab shows.

Refreshed with the inspector's run section (`NodeRunState.refresh`: the selection or the shown run
changed); read from the store once the run has ended. A click on an item opens the node's subflow
showing that item's inner nodes, with their inputs and outputs (`SubflowNavState.enter`).
"""

from __future__ import annotations

import reflex as rx

from runtime.live import live_runs

from .. import flow_records, subflow_scope
from ..flow_runs import ITEM_ROWS_LIMIT, ItemRow, by_item, item_rows
from .editor import EditorState
from .subflow_nav import SubflowNavState

__all__ = ["FlowRunState"]

LISTED = ("flow.map", "flow.loop")


class FlowRunState(rx.State):
    node_id: str = ""  # the flow node listed (its id on the canvas)
    kind: str = ""  # map | loop
    rows: list[ItemRow] = []
    more: int = 0  # items not listed (beyond ITEMS_ROWS_LIMIT)
    _path: str = ""  # its id in the run (`map1`, or `map1/2/inner` inside an item)
    _run: str = ""
    _key: str = ""

    def _clear(self) -> None:
        if self.rows or self.node_id:
            self.node_id, self.kind, self.rows, self.more = "", "", [], 0
        self._key = ""

    async def refresh(self, run_id: str, path: str) -> None:
        """The inspector shows the node stored as `path` in run `run_id` ("": none): list its items, if any."""
        editor = await self.get_state(EditorState)
        spec = editor.shown_spec()
        node = spec.node(path.rsplit("/", 1)[-1]) if spec is not None and path else None
        live = live_runs().get(run_id) if run_id else None
        if node is None or node.component not in LISTED or not run_id or (live is not None and not live.done):
            self._clear()
            return
        key = f"{run_id}:{path}"
        if key == self._key:
            return
        self._key, self._path, self._run = key, path, run_id
        run_spec, records = await flow_records.read_under(run_id, path + "/")
        items = by_item(records, path)
        subflow = ((run_spec or {}).get("subflows") or {}).get(str(node.params.get("subflow"))) or {}
        outputs = [str(n["id"]) for n in subflow.get("nodes", []) if n.get("component") == "io.output"]
        self.node_id, self.kind = node.id, "loop" if node.component == "flow.loop" else "map"
        self.rows = item_rows(node.id, node.component, items, outputs)
        self.more = max(0, len(items) - ITEM_ROWS_LIMIT)

    @rx.event
    async def open_item(self, index: int):
        """Open the node's subflow showing item `index` (a loop: iteration `index + 1`) of the run."""
        editor = await self.get_state(EditorState)
        name = subflow_scope.opens(editor.shown_spec(), self.node_id)
        if name is None or not self._run:
            return rx.toast.error(f"`{self.node_id}` no longer names a subflow of this pipeline: its items cannot "
                                  "be shown on the canvas.")
        what = f"iteration {index + 1}" if self.kind == "loop" else f"item {index}"
        nav = await self.get_state(SubflowNavState)
        await nav.enter(editor, name, f"{self.node_id} · {what}", node=self.node_id, prefix=f"{self._path}/{index}/",
                        run=self._run)
        return None
