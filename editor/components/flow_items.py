"""The inspector's list of a map node's items or a loop node's iterations in the shown run (`FlowRunState`)."""

from __future__ import annotations

import reflex as rx

from ..flow_runs import ItemRow
from ..state.flow_run import FlowRunState as F

__all__ = ["flow_items"]


def _row(row: rx.Var[ItemRow]) -> rx.Component:
    return rx.el.button(
        rx.el.span(row["label"]),
        rx.el.span(row["status"], class_name="pw-chip pw-chip-" + row["status"]),
        rx.el.span(row["latency"], class_name="pw-muted"),
        rx.el.span(row["preview"], class_name="pw-item-preview"),
        on_click=F.open_item(row["index"]), type="button", class_name="pw-item",
        title="Show this item's inner nodes, with their inputs and outputs, on the subflow's canvas",
        custom_attrs={"data-testid": row["testid"], "data-status": row["status"]},
        key=row["testid"],
    )


def flow_items() -> rx.Component:
    return rx.cond(
        F.rows.length() > 0,
        rx.el.section(
            rx.el.h4(rx.cond(F.kind == "loop", "Iterations", "Items"), " (", F.rows.length().to(str), ")",
                     class_name="pw-section"),
            rx.el.div(rx.foreach(F.rows, _row), class_name="pw-items"),
            rx.cond(F.more > 0, rx.el.p("… and ", F.more.to(str), " more (the run record keeps them all).",
                                        class_name="pw-muted")),
            custom_attrs={"data-testid": "flow-items", "data-node-id": F.node_id},
        ),
    )
