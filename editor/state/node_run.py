"""The inspector's run section: what the selected node did in the run this tab shows, and its pin.

Live while the node runs (status, attempts, streamed tokens from the run's snapshots); once it has
finished, its full record from the run store (`editor.node_details`), bounded for the browser, the
full values on demand ("show full"). `RunState` tells it which run the tab shows (`refresh(..., run_id=)`);
the editor tells it the selection (`follow_editor`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import reflex as rx

from runtime.live import live_runs

from .. import node_details as nd
from .. import pins as pin_store
from ..catalog import registry
from ..run_presets import PresetError, parse_pin, spec_output_types
from ..statuses import TERMINAL_NODE_STATUSES as TERMINAL
from . import run_data
from .editor import EditorState, follows_editor
from .flow_run import FlowRunState
from .pins import PinsState
from .subflow_nav import SubflowNavState

__all__ = ["NodeRunState"]

_EMPTY = nd.live_detail({})


@follows_editor
class NodeRunState(rx.State):
    node_id: str = ""
    run_id: str = ""
    shown: bool = False  # the selected node is part of the run this tab shows
    status: str = ""
    latency: str = ""
    attempts: int = 0
    cache: str = ""
    cache_source: str = ""
    skip_reason: str = ""
    error_type: str = ""
    error_message: str = ""
    traceback: str = ""
    handled: bool = False
    retries: list[dict[str, str]] = []
    calls: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    truncated: bool = False
    trace: dict[str, Any] = {}
    logs: list[dict[str, str]] = []
    tokens_in: int = 0
    tokens_out: int = 0
    cost: str = ""
    model: str = ""
    has_data: bool = False
    streamed: str = ""
    full_error: str = ""
    pin_origin: str = ""  # this node's pin, if any
    pin_open: bool = False
    pin_error: str = ""
    _fetched: str = ""  # "<run>:<node>:<status>" whose record was read (or is being read)

    def _assign(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _reset(self) -> None:
        self._assign({**_EMPTY, "shown": False, "streamed": "", "full_error": ""})
        self._fetched = ""

    # --- following the run ---------------------------------------------------------------------
    def on_snapshot(self, snapshot: dict[str, Any]) -> str | None:
        """A live snapshot of the shown run; returns the node id whose record should now be read."""
        view = snapshot["nodes"].get(self.node_id) if self.node_id else None
        if view is None:
            return None
        if snapshot["run_id"] != self.run_id:
            self.run_id, self._fetched = snapshot["run_id"], ""
        if not self.shown:
            self.shown = True
        streamed = view.get("streamed") or ""
        if streamed != self.streamed:
            self.streamed = streamed
        if view.get("status") not in TERMINAL:
            self._assign(nd.live_detail(view))
            return None
        key = f"{self.run_id}:{self.node_id}:{view['status']}"
        if self._fetched == key:
            return None
        self._fetched = key
        self._assign({k: v for k, v in nd.live_detail(view).items() if k != "has_data"})
        return self.node_id

    def show_record(self, run_id: str, node_id: str, record: Any, *, cache_source: str | None = None) -> None:
        if node_id != self.node_id or run_id != self.run_id:
            return
        if record is None:
            self.shown = False
            return
        live = live_runs().get(run_id)
        if cache_source is None and live is not None and node_id in live.nodes:
            cache_source = live.nodes[node_id].cache_source
        self._assign({**nd.node_detail(record, cache_source=cache_source), "shown": True, "full_error": ""})

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        await self.refresh(editor.selected_nodes)

    async def refresh(self, selected: list[str], *, run_id: str | None = None) -> None:
        """The selection changed (or the shown run did: `run_id`): show the node's run data, if it has any."""
        editor = await self.get_state(EditorState)
        pins = await self.get_state(PinsState)
        run_id = self.run_id if run_id is None else run_id
        node_id = selected[0] if len(selected) == 1 else ""
        node_id = (await self.get_state(SubflowNavState)).run_node_id(node_id, run_id)  # in an item: its path
        await (await self.get_state(FlowRunState)).refresh(run_id, node_id)
        if node_id != self.node_id or run_id != self.run_id:
            self._reset()
        self.node_id, self.run_id = node_id, run_id
        self.pin_open, self.pin_error = False, ""
        self.pin_origin = pins.pins.get(node_id, "") if not editor.viewing_run else ""
        if not node_id or not self.run_id:
            self._reset()
            return
        live = live_runs().get(self.run_id)
        view = live.snapshot()["nodes"].get(node_id) if live is not None and not live.done else None
        if view is not None and view["status"] not in TERMINAL:
            self.on_snapshot({"run_id": self.run_id, "nodes": {node_id: view}})
            return
        key = f"{self.run_id}:{node_id}:{view['status'] if view else 'stored'}"
        if key == self._fetched:
            return  # already shown (e.g. a param of the node was edited)
        self._fetched = key
        self.show_record(self.run_id, node_id, await run_data.read_node(self.run_id, node_id))
        if live is not None and node_id in live.nodes:
            streamed = live.nodes[node_id].streamed[-2000:]
            if streamed != self.streamed:
                self.streamed = streamed

    # --- values in full ------------------------------------------------------------------------
    @rx.event
    async def show_full(self):
        record = await run_data.read_node(self.run_id, self.node_id)
        if record is None:
            return
        size = len(json.dumps([record.inputs, record.outputs], default=str))
        if size > nd.FULL_LIMIT:
            self.full_error = (f"These values are {size:,} characters of JSON, too large to show here. Read them "
                               f"with `runtime.store.runs.get_run(\"{self.run_id}\")`.")
            return
        self._assign({**nd.node_detail(record, cache_source=self.cache_source or None, full=True), "full_error": ""})

    # --- pins ------------------------------------------------------------------------------------
    @rx.event
    async def pin_last_output(self):
        """Pin what this node output in the shown run."""
        record = await run_data.read_node(self.run_id, self.node_id)
        if record is None or record.status not in ("succeeded", "cached") or not record.outputs:
            return rx.toast.error(f"`{self.node_id}` has no output in this run to pin: run it first.")
        return await self._pin(dict(record.outputs), f"run {self.run_id[:8]}")

    @rx.event
    def toggle_pin_editor(self):
        self.pin_open, self.pin_error = not self.pin_open, ""

    @rx.event
    async def pin_json(self, form: dict):
        editor = await self.get_state(EditorState)
        spec = editor._spec
        if spec is None or spec.node(self.node_id) is None:
            return None
        try:
            data = parse_pin(spec_output_types(spec, registry(), self.node_id), self.node_id, str(form.get("pin", "")))
        except PresetError as exc:
            self.pin_error = str(exc)
            return None
        return await self._pin(data, "typed")

    async def _pin(self, outputs: dict[str, Any], origin: str):
        editor = await self.get_state(EditorState)
        if editor.viewing_run:
            return rx.toast.info("Pins belong to the pipeline being edited: press “Back to editing” first.")
        if editor._scope or "/" in self.node_id:  # a run uses no pin inside a subflow (`editor.pins`)
            return rx.toast.info("Pins are for the pipeline's own nodes: a run uses none inside a subflow. Go back to "
                                 "the pipeline and pin the flow node's output instead.")
        await asyncio.to_thread(pin_store.set_pin, editor.pipeline_id, self.node_id, outputs, origin)
        await (await self.get_state(PinsState)).reload(editor.pipeline_id)
        self.pin_origin, self.pin_open, self.pin_error = origin, False, ""
        return rx.toast.success(f"Pinned `{self.node_id}`: development runs use this output instead of running it.",
                                duration=3000)

    @rx.event
    async def unpin(self):
        editor = await self.get_state(EditorState)
        await asyncio.to_thread(pin_store.remove_pin, editor.pipeline_id, self.node_id)
        await (await self.get_state(PinsState)).reload(editor.pipeline_id)
        self.pin_origin = ""
