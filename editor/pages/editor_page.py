"""`/pipelines/<id>`: palette | canvas, run bar, bottom tabs (issues, run, timeline, history) | inspector.

`?run=<id>` shows that run (a reload re-subscribes to it while it is in flight).
"""

from __future__ import annotations

import reflex as rx

from .. import routes
from ..components.dialogs import new_pipeline_dialog, versions_dialog
from ..components.flow import flow_canvas
from ..components.inspector import inspector
from ..components.palette import palette
from ..components.run_panel import bottom_panel, run_bar, viewing_banner
from ..components.subflow_bar import canvas_status, subflow_bar
from ..components.topbar import conflict_banner, topbar
from ..state.breakpoints import BreakpointsState
from ..state.editor import EditorState
from ..state.monitor import HeatState
from ..state.notes import NotesState
from ..state.outlines import OutlineState
from ..state.palette import PaletteState
from ..state.pins import PinsState
from ..state.quick_connect import QuickConnectState
from ..state.run import RunState
from ..state.subflow_nav import SubflowNavState
from ..state.warmup import WarmupState

__all__ = ["editor_page", "ROUTE", "ON_LOAD"]

ROUTE = routes.PIPELINE_PAGE
ON_LOAD = [EditorState.load, PaletteState.load, RunState.load, WarmupState.watch]


def hydration_marker() -> rx.Component:
    """Tests wait for "yes": the prerendered page shows state before the websocket connects."""
    return rx.el.span(rx.cond(rx.State.is_hydrated, "yes", "no"), id="hydrated", class_name="pw-hidden")


def _canvas() -> rx.Component:
    return flow_canvas(
        nodes=EditorState.nodes, positions=EditorState.positions, edges=EditorState.edges,
        graph_key=EditorState.graph_key, graph_patch=EditorState.graph_patch, on_resync=EditorState.resync_graph,
        pipeline_id=EditorState.pipeline_id,
        components=EditorState.components, node_status=canvas_status(), pins=PinsState.shown,
        node_issues=EditorState.node_issues, compat=EditorState.compat, fit_view_key=EditorState.fit_view_key,
        focus=EditorState.focus, heat=HeatState.heat, read_only=EditorState.viewing_run != "", dirty=EditorState.save_status != "saved",
        on_connect=EditorState.on_connect, on_drop_component=EditorState.on_drop_component,
        on_move=EditorState.on_move, on_select=EditorState.on_select, on_delete=EditorState.on_delete,
        on_undo=EditorState.undo, on_redo=EditorState.redo, on_copy=EditorState.on_copy,
        on_paste=EditorState.on_paste, on_duplicate=EditorState.on_duplicate, on_save=EditorState.save_now,
        on_layout=EditorState.on_layout,
        breakpoints=BreakpointsState.breakpoints, on_toggle_breakpoint=BreakpointsState.toggle,
        outlines=OutlineState.outlines, on_open_node=SubflowNavState.open_node, on_group=SubflowNavState.group,
        on_ungroup=SubflowNavState.ungroup,
        notes=NotesState.notes, on_note_add=NotesState.add_note, on_note_change=NotesState.change_note,
        quick_connect=QuickConnectState.offer, on_quick_connect_open=QuickConnectState.open,
        on_quick_connect_pick=QuickConnectState.pick,
    )


def _missing() -> rx.Component:
    return rx.el.div(
        rx.el.h2("This pipeline cannot be opened"),
        rx.el.p(EditorState.load_error, custom_attrs={"data-testid": "load-error"}),
        rx.el.a("See all pipelines", href=routes.PIPELINES),
        class_name="pw-missing-page",
    )


def editor_page() -> rx.Component:
    return rx.el.div(
        hydration_marker(),
        topbar(),
        conflict_banner(),
        rx.cond(
            EditorState.load_error != "",
            _missing(),
            rx.el.main(
                palette(),
                rx.el.div(viewing_banner(),
                          rx.el.div(subflow_bar(), _canvas(), class_name="pw-canvas-wrap"),
                          run_bar(), bottom_panel(),
                          class_name="pw-center"),
                inspector(),
                class_name="pw-main",
            ),
        ),
        new_pipeline_dialog(),
        versions_dialog(),
        class_name="pw-app",
        custom_attrs={"data-testid": "editor", "data-pipeline-id": EditorState.pipeline_id,
                      "data-loaded": EditorState.loaded.to(str)},
    )
