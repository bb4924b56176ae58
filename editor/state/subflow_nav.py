"""Subflows on the canvas: which one is open (the breadcrumbs), an item of a run shown inside it, group/ungroup.

The editor's own state holds only the name of the open subflow (`EditorState._scope`, see
`editor.subflow_scope`); the way there, the item of a run being looked at and the canvas statuses of
that item's inner nodes live here; the live statuses inside the open flow node (its path in each crumb,
`flow`) are `SubflowLiveState`'s. Graph logic is in `editor.grouping` and `editor.subflow_scope`.
"""

from __future__ import annotations

from typing import Any, TypedDict

import reflex as rx

from runtime import PipelineSpec

from .. import flow_records, grouping, subflow_scope
from ..catalog import registry
from ..flow_runs import item_canvas
from . import node_ids
from .editor import EditorState, follows_editor
from .pins import pins_dropped_notice
from .subflow_live import SubflowLiveState, opened_flow, opened_within

__all__ = ["SubflowNavState", "Crumb"]


class Crumb(TypedDict):
    label: str
    scope: str  # the subflow shown at this level ("" the pipeline itself)
    prefix: str  # the run path of the item shown at this level (`map1/2/`), "" for none
    run: str  # the run that item belongs to
    flow: str  # the flow node opened, by its path without indices (`map1`, `outer/m`): live statuses inside
    within: str  # opened from an item of a run (`map1/2/m/`): the statuses inside are that item's, "" all items'


@follows_editor
class SubflowNavState(rx.State):
    crumbs: list[Crumb] = []  # empty on the pipeline itself; else the pipeline, ..., the open subflow
    scope: str = ""  # the open subflow (the editor's `_scope`)
    item_run: str = ""  # the run whose item the open subflow shows ...
    item_prefix: str = ""  # ... and which item (`map1/2/`)
    item_status: dict[str, dict[str, Any]] = {}  # the canvas statuses of that item's inner nodes
    can_group: bool = False
    can_ungroup: bool = False
    break_in_item: bool = False  # breakpoints set here pause in the item shown only (`map1/2/work`), not every item

    def _assign(self, **values: Any) -> None:
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        if editor._scope != self.scope:  # the editor closed it (undo removed the subflow, another pipeline)
            level = max((i for i, c in enumerate(self.crumbs) if c["scope"] == editor._scope), default=0)
            await self._at(self.crumbs[:level + 1] if editor._scope else [])
        spec, selected = editor.shown_spec(), editor.selected_nodes
        node = spec.node(selected[0]) if spec is not None and len(selected) == 1 else None
        editable = not editor.viewing_run
        self._assign(can_group=editable and bool(selected),
                     can_ungroup=editable and node is not None and node.component == "flow.subflow")

    def open_flow(self) -> str:
        """The flow path of the open level (`map1`, `outer/m`; "": the pipeline itself), as breakpoints name it."""
        return self.crumbs[-1]["flow"] if self.crumbs else ""

    def breakpoint_flow(self) -> str:
        """The path breakpoints set at the open level are stored under: the flow path (every item or iteration), or
        with `break_in_item` the path of the item shown, indices included (`map1/2`, `outer/0/m/1`)."""
        if self.break_in_item and self.item_prefix:
            return self.item_prefix.rstrip("/")
        return self.open_flow()

    def run_node_id(self, node_id: str, run_id: str) -> str:
        """The id under which the run stored the canvas node `node_id` ("" if the canvas shows no run here)."""
        if not self.scope or not node_id:
            return node_id
        return self.item_prefix + node_id if self.item_prefix and self.item_run == run_id else ""

    async def _at(self, crumbs: list[Crumb]) -> None:
        """Take `crumbs` as the way to the open subflow, and show the statuses of the item it shows, if any."""
        last = crumbs[-1] if crumbs else Crumb(label="", scope="", prefix="", run="", flow="", within="")
        status: dict[str, dict[str, Any]] = {}
        if last["prefix"]:
            run_spec, records = await flow_records.read_under(last["run"], last["prefix"])
            subflow = ((run_spec or {}).get("subflows") or {}).get(last["scope"])
            status = item_canvas(records, last["prefix"], subflow)
        self._assign(crumbs=crumbs if len(crumbs) > 1 else [], scope=last["scope"], item_run=last["run"],
                     item_prefix=last["prefix"], item_status=status,
                     break_in_item=self.break_in_item and last["prefix"] == self.item_prefix)
        await (await self.get_state(SubflowLiveState)).open("" if last["prefix"] else last.get("flow", ""),
                                                            last.get("within", ""))

    async def enter(self, editor: EditorState, name: str, label: str, *, node: str = "", prefix: str = "",
                    run: str = "") -> None:
        """Open the subflow `name` of the flow node `node` one level down (`prefix`, `run`: showing that item of
        that run)."""
        top = Crumb(label=editor.pipeline_name or "Pipeline", scope="", prefix="", run="", flow="", within="")
        above = (self.crumbs or [top])[-1]
        flow = opened_flow(above.get("flow", ""), node)
        within = opened_within(above["prefix"], above.get("within", ""), node)
        await self._at([*(self.crumbs or [top]), Crumb(label=label, scope=name, prefix=prefix, run=run, flow=flow,
                                                        within=within)])
        await editor.open_scope(name)

    @rx.event
    async def open_node(self, payload: dict):
        """Double-click on a node: a flow node opens its subflow."""
        editor = await self.get_state(EditorState)
        node_id = str(payload.get("id", ""))
        spec = editor.shown_spec()
        name = subflow_scope.opens(spec, node_id)
        if name is None:
            node = spec.node(node_id) if spec is not None else None
            if node is not None and node.component.startswith("flow."):
                return rx.toast.info(f"`{node_id}` names no subflow of this pipeline yet: set its `subflow` param.",
                                     duration=4000)
            return None
        await self.enter(editor, name, f"{node_id}: {name}", node=node_id)
        return None

    @rx.event
    async def go_to(self, level: int):
        """A click on a breadcrumb: back to that level (0: the pipeline)."""
        editor = await self.get_state(EditorState)
        crumbs = list(self.crumbs[:level + 1]) if level > 0 else []
        await self._at(crumbs)
        await editor.open_scope(crumbs[-1]["scope"] if crumbs else "")

    @rx.event
    async def group(self, _payload: dict | None = None):
        """Group the selected nodes into a new subflow (Ctrl+G): one undoable edit."""
        editor = await self.get_state(EditorState)
        selected, made = list(editor.selected_nodes), []

        def edit(spec: PipelineSpec) -> PipelineSpec:
            done = grouping.group(spec, registry(), selected)
            made.append(done.node_id)
            return done.spec

        before, scope = editor._spec, editor._scope
        result = await self._edited(editor, edit, made)
        if made:  # breakpoints on the grouped nodes go inside the new flow node (their pins end)
            await node_ids.grouped(editor, before, scope, selected, made[0])
            return _also(result, pins_dropped_notice(editor._history.notes(), "Grouping"))
        return result

    @rx.event
    async def ungroup(self, _payload: dict | None = None):
        """Put the selected `flow.subflow` node's nodes back in its place (Ctrl+Shift+G): one undoable edit."""
        editor = await self.get_state(EditorState)
        selected, brought = list(editor.selected_nodes), []
        if len(selected) != 1:
            return rx.toast.info("Select one subflow node to ungroup.", duration=3000)

        def edit(spec: PipelineSpec) -> PipelineSpec:
            after, ids = grouping.ungroup(spec, selected[0])
            brought.extend(ids)
            return after

        before, scope = editor._spec, editor._scope
        result = await self._edited(editor, edit, brought)
        await node_ids.ungrouped(editor, before, scope, selected[0], brought)  # and its nodes' breakpoints come out
        return _also(result, pins_dropped_notice(editor._history.notes(), "Ungrouping") if brought else None)

    async def _edited(self, editor: EditorState, edit: Any, select: list[str]):
        result = await editor._edit(edit)
        editor._focus(select, center=False)  # the browser selects them (and tells the editor so)
        return result


def _also(result: Any, event: Any) -> Any:
    """A handler's result with `event` added (None: nothing to add)."""
    if event is None:
        return result
    if result is None:
        return event
    return [*result, event] if isinstance(result, list) else [result, event]
