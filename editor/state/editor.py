"""The editor page's state: one pipeline spec, what the canvas shows of it, undo history, autosave.

Handlers stay short: graph edits are pure functions in `editor.graph`, views in `editor.views`,
persistence in `runtime.store.pipelines`; saving is `editor.state.saving`'s mixin, which spec the canvas
shows (an open subflow, an old run) `editor.state.shown_spec`'s. The spec lives in a backend-only var (`_spec`).

The states shown beside the canvas (inspector, run bar, the node's run data) follow the shown spec and
the selection through `follows_editor`: they import this module, never the reverse.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

import reflex as rx
from pydantic import ValidationError

from runtime import PipelineSpec
from runtime.store import pipelines as store

from .. import graph, graph_patches, routes, subflow_scope, views
from ..catalog import registry
from ..graph_patches import made_on_another_pipeline
from ..history import History
from ..spec_download import spec_download
from . import node_ids
from .saving import AUTOSAVE_DELAY_S, SavingMixin
from .shown_spec import ShownSpecMixin

__all__ = ["EditorState", "EditorFollower", "follows_editor", "AUTOSAVE_DELAY_S"]

Edit = Callable[[PipelineSpec], PipelineSpec]


class EditorFollower(Protocol):
    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """The shown spec or the selection changed (`clear`: a new spec or selection, drop drafts)."""


_followers: list[type[rx.State]] = []
S = TypeVar("S", bound=type[rx.State])


def follows_editor(state: S) -> S:
    """Class decorator: `state.follow_editor(editor, clear=...)` runs after every change of the shown spec or
    the selection, in the order the states were declared."""
    if state not in _followers:
        _followers.append(state)
    return state


class EditorState(SavingMixin, ShownSpecMixin, rx.State):
    pipeline_id: str = ""
    pipeline_name: str = ""
    load_error: str = ""
    loaded: bool = False
    nodes: list[dict[str, Any]] = []  # compact wire format (editor.views); a snapshot sent on a reset only:
    positions: dict[str, list[float]] = {}  # edits reach the canvas as `graph_patch` (editor.graph_patches)
    edges: list[list[Any]] = []
    graph_key: int = 0  # bumped by each reset of the three vars above
    graph_patch: dict[str, Any] = {}  # the last edits since that reset, as ops
    node_count: int = 0
    edge_count: int = 0
    components: dict[str, dict[str, Any]] = {}  # titles, colours, docs of the components in use
    node_issues: dict[str, list[dict[str, Any]]] = {}
    compat: dict[str, list[str]] = {}
    issues: list[views.IssueRow] = []
    error_count: int = 0
    warning_count: int = 0
    selected_nodes: list[str] = []
    selected_edges: list[str] = []
    save_status: str = "saved"  # saved | saving | unsaved | error
    save_message: str = ""
    conflict: bool = False
    revision: int = 0
    can_undo: bool = False
    can_redo: bool = False
    fit_view_key: int = 0
    focus: dict[str, Any] = {}
    viewing_run: str = ""  # an old run shown read-only on the canvas, exactly as it ran (its own spec)
    viewing_label: str = ""
    _spec: PipelineSpec | None = None
    _view_spec: PipelineSpec | None = None
    _shown: dict[str, Any] | None = None  # what the canvas was sent (graph_patches.Shown); None: reset next
    _history: History | None = None
    _edit_seq: int = 0
    _saving: bool = False
    _clipboard: dict[str, Any] | None = None
    _scope: str = ""  # the subflow open on the canvas, "" for the pipeline itself (`editor.subflow_scope`)

    # --- loading ---------------------------------------------------------------------------------
    def _route_id(self) -> str:
        return routes.pipeline_id_of(str(self.router.url.path or ""))

    @rx.event
    async def load(self):
        """on_load of /pipelines/<id>: the saved spec (or this tab's unsaved edits of it)."""
        pipeline_id = self._route_id()
        if pipeline_id == self.pipeline_id and self._spec is not None and self.save_status != "saved":
            await self.resync_graph()  # a reloaded tab holds only the last reset and patch
            self.fit_view_key += 1
            return EditorState.autosave if self.save_status == "unsaved" else None
        await self._flush()
        try:
            record = await asyncio.to_thread(store.get_pipeline, pipeline_id)
            spec = PipelineSpec.model_validate(record.spec)
        except store.PipelineNotFound as exc:
            return self._fail_load(pipeline_id, str(exc))
        except ValidationError as exc:
            return self._fail_load(pipeline_id, f"The saved spec of `{pipeline_id}` cannot be read: "
                                                f"{exc.errors(include_url=False)[0]['msg']}.")
        self._use(record, spec)
        await self._refresh_inspector(clear=True)

    def _fail_load(self, pipeline_id: str, message: str) -> None:
        self.pipeline_id, self.load_error, self.loaded, self._spec = pipeline_id, message, True, None
        self.nodes, self.edges, self.issues, self.node_issues, self.positions = [], [], [], {}, {}
        self._shown = None

    def _use(self, record: store.PipelineRecord, spec: PipelineSpec) -> None:
        self.pipeline_id, self.revision, self._spec, self.load_error = record.id, record.revision, spec, ""
        self.viewing_run, self.viewing_label, self._view_spec, self._scope = "", "", None, ""
        self._history = History()
        self.save_status, self.save_message, self.conflict = "saved", "", False
        self.selected_nodes, self.selected_edges = [], []
        self._shown = None  # a fresh page: send the whole graph
        self._show(spec)
        self.fit_view_key += 1
        self.loaded = True

    # --- showing ---------------------------------------------------------------------------------
    def _show(self, spec: PipelineSpec) -> None:
        """Recompute what the browser shows of `spec` (nodes, edges, issues, compatibility)."""
        reg = registry()
        shown = subflow_scope.show(spec, self._scope, reg)  # the subflow open on the canvas, if any
        name, spec, self._scope = spec.name, shown.spec, shown.name
        ports = {n.id: graph.node_ports(n, reg, shown.scope) for n in spec.nodes}
        issues = shown.issues
        errors = sum(1 for i in issues if i.severity == "error")
        ids = {n.id for n in spec.nodes}
        wires = {graph.edge_id(e) for e in spec.edges}
        history = self._history or History()
        self._shown, graph_vars = graph_patches.update(
            cast(graph_patches.Shown | None, self._shown), self.graph_key, self.graph_patch,
            views.flow_nodes(spec, reg, ports), views.flow_positions(spec), views.flow_edges(spec, ports, issues),
            pipeline=self.pipeline_id)
        if graph_patches.is_reset(graph_vars):  # a reset goes whole, even a var equal to the last snapshot
            for var in graph_patches.SNAPSHOT_VARS:
                setattr(self, var, graph_vars.pop(var))
        self._assign(
            **graph_vars, components=views.component_meta(spec, reg),
            node_issues=views.issues_by_node(issues), issues=views.issue_rows(issues), error_count=errors,
            warning_count=len(issues) - errors, compat=views.compat_table(views.port_types(reg, ports.values())),
            pipeline_name=name, selected_nodes=[n for n in self.selected_nodes if n in ids],
            selected_edges=[e for e in self.selected_edges if e in wires],
            can_undo=history.can_undo, can_redo=history.can_redo)

    @rx.event
    async def resync_graph(self, _payload: dict | None = None):
        """The canvas missed a patch (or was remounted): send it the whole shown graph again."""
        spec = self.shown_spec()
        if spec is not None:
            self._shown = None
            self._show(spec)

    def _assign(self, **values: Any) -> None:
        """Set only the vars whose value changed: Reflex sends every var that was set, whole."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _refresh_inspector(self, *, clear: bool = False) -> None:
        for follower in _followers:
            await cast(EditorFollower, await self.get_state(follower)).follow_editor(self, clear=clear)

    # --- editing ---------------------------------------------------------------------------------
    async def _edit(self, edit: Edit, *, key: str | None = None, keep_drafts: bool = False, scoped: bool = True):
        """Apply a pure edit (to the open subflow, if `scoped`), record it for undo, show it, schedule an autosave."""
        if self._spec is None:
            return None
        if self.viewing_run:
            return self._read_only_refusal()
        before = self._spec
        try:
            after = subflow_scope.apply(before, self._scope, edit) if scoped else edit(before)
        except graph.EditError as exc:
            return rx.toast.error(str(exc), duration=8000)
        if after == before:
            return None
        history = self._history or History()
        history.record(before.model_dump_json(), now=time.monotonic(), key=key)
        self._history = history
        return await self._replace(after, keep_drafts=keep_drafts)

    async def _replace(self, spec: PipelineSpec, *, keep_drafts: bool = False):
        self._spec = spec
        self._show(spec)
        await self._refresh_inspector(clear=not keep_drafts)
        self._edit_seq += 1
        if self.save_status != "error":
            self.save_status, self.save_message = "unsaved", ""
        return EditorState.autosave

    @rx.event
    async def on_drop_component(self, payload: dict):
        if made_on_another_pipeline(payload, self.pipeline_id):
            return None
        reg = registry()
        added: list[str] = []

        def edit(spec: PipelineSpec) -> PipelineSpec:
            spec, node_id = graph.add_node(spec, reg, str(payload.get("component", "")),
                                           float(payload.get("x", 0)), float(payload.get("y", 0)))
            added.append(node_id)
            return spec

        result = await self._edit(edit)
        self._focus(added, center=False)
        return result

    def _focus(self, ids: list[str], *, center: bool) -> None:
        """Select `ids` in the browser (and centre the view on them when `center`)."""
        if ids:
            self.focus = {"ids": ids, "key": int(self.focus.get("key", 0)) + 1, "center": center}

    @rx.event
    async def on_connect(self, c: dict):
        if made_on_another_pipeline(c, self.pipeline_id):
            return None
        reg = registry()
        return await self._edit(lambda s: graph.connect(
            s, reg, str(c.get("source")), str(c.get("sourceHandle")), str(c.get("target")), str(c.get("targetHandle"))))

    @rx.event
    async def on_move(self, payload: dict):
        if made_on_another_pipeline(payload, self.pipeline_id):
            return None
        moved = {str(p["id"]): (float(p["x"]), float(p["y"])) for p in payload.get("positions", [])}
        return await self._edit(lambda s: graph.move(s, moved))

    @rx.event
    async def on_layout(self, payload: dict):
        return await self.on_move(payload)

    @rx.event
    async def on_delete(self, payload: dict):
        if made_on_another_pipeline(payload, self.pipeline_id):
            return None
        nodes, edges = list(payload.get("nodes", [])), list(payload.get("edges", []))
        before, scope = self._spec, self._scope
        result = await self._edit(lambda s: graph.delete(s, nodes, edges))
        await node_ids.deleted(self, before, scope, nodes)  # their breakpoints go too
        return result

    @rx.event
    async def delete_selected(self):
        return await self.on_delete({"nodes": self.selected_nodes, "edges": self.selected_edges})

    @rx.event
    async def on_select(self, payload: dict):
        self.selected_nodes = [str(n) for n in payload.get("nodes", [])]
        self.selected_edges = [str(e) for e in payload.get("edges", [])]
        await self._refresh_inspector(clear=True)

    @rx.event
    async def rename_node(self, node_id: str, new_id: str):
        """Rename a node (its wires and breakpoints follow) and keep it selected."""
        before, scope = self._spec, self._scope
        result = await self._edit(lambda s: graph.rename_node(s, node_id, new_id))
        await node_ids.renamed(self, before, scope, node_id, new_id)
        if (shown := self.shown_spec()) is not None and shown.node(new_id) is not None:
            self.selected_nodes = [new_id]
            self._focus([new_id], center=False)
        return result

    @rx.event
    async def focus_node(self, node_id: str):
        if (shown := self.shown_spec()) is not None and shown.node(node_id) is not None:
            self._focus([node_id], center=True)

    @rx.event
    def on_copy(self, _payload: dict | None = None):
        if (shown := self.shown_spec()) is not None and self.selected_nodes:
            self._clipboard = graph.copy_nodes(shown, self.selected_nodes)
            n = len(self._clipboard["nodes"])
            return rx.toast.info(f"Copied {n} node{'s' if n != 1 else ''}.", duration=1500)
        return None

    @rx.event
    async def on_paste(self, _payload: dict | None = None):
        clipboard = self._clipboard
        if not clipboard:
            return None
        return await self._insert(lambda s: graph.paste(s, clipboard))

    @rx.event
    async def on_duplicate(self, _payload: dict | None = None):
        selected = list(self.selected_nodes)
        if not selected:
            return None
        return await self._insert(lambda s: graph.duplicate(s, selected))

    async def _insert(self, insert: Callable[[PipelineSpec], tuple[PipelineSpec, list[str]]]):
        added: list[str] = []

        def edit(spec: PipelineSpec) -> PipelineSpec:
            spec, ids = insert(spec)
            added.extend(ids)
            return spec

        result = await self._edit(edit)
        self._focus(added, center=False)
        return result

    @rx.event
    async def rename(self, name: str):
        if name.strip():
            return await self._edit(lambda s: graph.set_name(s, name), key="name", keep_drafts=True, scoped=False)
        return None

    @rx.event
    async def undo(self, _payload: dict | None = None):
        return await self._travel(back=True)

    @rx.event
    async def redo(self, _payload: dict | None = None):
        return await self._travel(back=False)

    async def _travel(self, *, back: bool):
        if self._spec is None or self._history is None:
            return None
        if self.viewing_run:
            return self._read_only_refusal()
        before, current = self._spec, self._spec.model_dump_json()
        target = self._history.undo(current) if back else self._history.redo(current)
        if target is None:
            return None
        result = await self._replace(PipelineSpec.model_validate_json(target))
        await node_ids.travelled(self, before, self._history.notes(undone=back), back=back)  # breakpoints follow
        return result

    @rx.event
    async def replace_spec(self, data: dict):
        """Replace the whole spec (restore a named version): one undoable edit."""
        spec = PipelineSpec.model_validate(data)
        return await self._edit(lambda s: spec.model_copy(update={"name": s.name}), scoped=False)

    # --- checking and exporting -----------------------------------------------------------------
    @rx.event
    def validate_now(self):
        if self._spec is None:
            return None
        self._show(self._spec)
        if not self.issues:
            return rx.toast.success("No problems found: the pipeline is valid.", duration=3000)
        what = f"{self.error_count} error{'s' if self.error_count != 1 else ''}"
        if self.warning_count:
            what += f" and {self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        return rx.toast.warning(f"{what}: see the issues panel below the canvas.", duration=4000)

    @rx.event
    def export_spec(self):
        if self._spec is None:
            return None
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", self._spec.name).strip("_") or "pipeline"
        text, warnings = spec_download(self._spec)  # as `patchwire export` writes it: no secret values
        download = rx.download(data=text, filename=f"{slug}.json", mime_type="application/json")
        if not warnings:
            return download
        return [download, rx.toast.warning(" ".join(warnings), duration=8000)]
