"""Over the canvas: the breadcrumbs of the open subflow, and Group into subflow / Ungroup.

Also what the canvas shows as node statuses: the run's, on the pipeline itself; inside a subflow, those
of the run's item being looked at (`SubflowNavState.item_status`), else the live ones of the run shown
(`SubflowLiveState.inner_status`: a map's items and a loop's iterations folded per inner node).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.breakpoints import BreakpointsState
from ..state.canvas_status import CanvasStatusState
from ..state.editor import EditorState
from ..state.run import RunState
from ..state.subflow_live import SubflowLiveState as L
from ..state.subflow_nav import Crumb
from ..state.subflow_nav import SubflowNavState as N

__all__ = ["subflow_bar", "canvas_status"]


def canvas_status() -> Any:
    """The canvas's `node_status` prop."""
    return rx.cond(N.scope == "", CanvasStatusState.node_status,
                   rx.cond((N.item_run != "") & (N.item_run == RunState.run_id), N.item_status,
                           rx.cond(L.run == RunState.run_id, L.inner_status, rx.Var.create({}))))


def _crumb(crumb: rx.Var[Crumb], index: rx.Var[int]) -> rx.Component:
    return rx.el.button(crumb["label"], on_click=N.go_to(index), type="button", class_name="pw-crumb",
                        title=rx.cond(crumb["scope"] == "", "Back to the pipeline", "Subflow " + crumb["scope"]),
                        custom_attrs={"data-testid": "subflow-crumb-" + index.to(str), "data-scope": crumb["scope"]})


def subflow_bar() -> rx.Component:
    return rx.el.div(
        rx.cond(N.crumbs.length() > 0, rx.el.nav(
            rx.foreach(N.crumbs, _crumb), class_name="pw-crumbs",
            custom_attrs={"data-testid": "subflow-breadcrumbs", "aria-label": "Open subflow", "data-scope": N.scope})),
        rx.cond((N.item_prefix != "") & (EditorState.viewing_run == ""), rx.el.div(  # not on a read-only old run
            rx.checkbox("Breakpoints here: this item only", checked=N.break_in_item, size="1",
                        on_change=BreakpointsState.set_item_only,
                        custom_attrs={"data-testid": "breakpoints-item-only"}),
            class_name="pw-item-only",
            title="On: a breakpoint set at this level pauses later runs only in this item (" + N.item_prefix
                  + "…). Off: in every item or iteration.")),
        rx.el.div(
            rx.button("Group into subflow", on_click=N.group({}), disabled=~N.can_group, size="1", variant="soft",
                      title="Make the selected nodes a subflow, run by one node in their place (Ctrl+G)",
                      custom_attrs={"data-testid": "group-button"}),
            rx.button("Ungroup", on_click=N.ungroup({}), disabled=~N.can_ungroup, size="1", variant="soft",
                      title="Put the selected subflow node's nodes back in its place (Ctrl+Shift+G)",
                      custom_attrs={"data-testid": "ungroup-button"}),
            class_name="pw-group-tools",
        ),
        class_name="pw-subflow-bar",
    )
