"""`/pipelines`: every saved pipeline, to open, rename, duplicate or delete; and `/`, which opens the latest."""

from __future__ import annotations

from typing import Any

import reflex as rx

from .. import routes
from ..components.dialogs import new_pipeline_dialog
from ..state.new_pipeline import NewPipelineState
from ..state.pipelines import IndexState, PipelinesState
from .editor_page import hydration_marker

__all__ = ["pipelines_page", "index_page", "ROUTE", "ON_LOAD", "INDEX_ON_LOAD"]

ROUTE = routes.PIPELINES
ON_LOAD = PipelinesState.load
INDEX_ON_LOAD = IndexState.open_recent


def _name_cell(row: Any) -> rx.Component:
    pipeline_id = row["id"].to(str)
    return rx.cond(
        PipelinesState.renaming == pipeline_id,
        rx.el.form(
            rx.el.input(value=PipelinesState.rename_text, on_change=PipelinesState.set_rename_text, auto_focus=True,
                        class_name="pw-input", custom_attrs={"data-testid": "rename-input"}),
            rx.button("Save", type="submit", size="1", custom_attrs={"data-testid": "rename-save"}),
            rx.button("Cancel", on_click=PipelinesState.cancel, type="button", size="1", variant="soft"),
            on_submit=lambda _form: PipelinesState.finish_rename(),
            class_name="pw-row",
        ),
        rx.el.a(row["name"].to(str), href=routes.pipeline(pipeline_id), class_name="pw-open",
                custom_attrs={"data-testid": "open-" + pipeline_id}),
    )


def _actions(row: Any) -> rx.Component:
    pipeline_id = row["id"].to(str)
    return rx.cond(
        PipelinesState.deleting == pipeline_id,
        rx.el.span(
            rx.el.span("Delete for good? ", class_name="pw-muted"),
            rx.button("Delete", on_click=PipelinesState.confirm_delete, color_scheme="red", size="1",
                      custom_attrs={"data-testid": "confirm-delete"}),
            rx.button("Keep", on_click=PipelinesState.cancel, variant="soft", size="1"),
            class_name="pw-row",
        ),
        rx.el.span(
            rx.button("Rename", on_click=PipelinesState.start_rename(pipeline_id, row["name"].to(str)), variant="soft",
                      size="1", custom_attrs={"data-testid": "rename-" + pipeline_id}),
            rx.button("Duplicate", on_click=PipelinesState.duplicate(pipeline_id), variant="soft", size="1",
                      custom_attrs={"data-testid": "duplicate-" + pipeline_id}),
            rx.button("Delete", on_click=PipelinesState.ask_delete(pipeline_id), variant="soft", color_scheme="red",
                      size="1", custom_attrs={"data-testid": "delete-" + pipeline_id}),
            class_name="pw-row",
        ),
    )


def _row(row: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(_name_cell(row)),
        rx.el.td(row["nodes"].to(str)),
        rx.el.td(row["updated"].to(str), class_name="pw-muted"),
        rx.el.td(_actions(row)),
        custom_attrs={"data-testid": "pipeline-row-" + row["id"].to(str)},
    )


def pipelines_page() -> rx.Component:
    return rx.el.div(
        hydration_marker(),
        rx.el.header(
            rx.el.a("Patchwire", href=routes.INDEX, class_name="pw-brand"),
            rx.el.span("Pipelines", class_name="pw-name"),
            rx.button("New pipeline", on_click=NewPipelineState.open_dialog, size="1",
                      custom_attrs={"data-testid": "new-pipeline-button"}),
            class_name="pw-topbar",
        ),
        rx.el.main(
            rx.el.table(
                rx.el.thead(rx.el.tr(rx.el.th("Name"), rx.el.th("Nodes"), rx.el.th("Last edited"), rx.el.th(""))),
                rx.el.tbody(rx.foreach(PipelinesState.rows, _row)),
                class_name="pw-table",
                custom_attrs={"data-testid": "pipelines-list", "data-count": PipelinesState.rows.length(),
                              "data-loaded": PipelinesState.loaded.to(str)},
            ),
            class_name="pw-list-page",
        ),
        new_pipeline_dialog(),
        class_name="pw-app",
    )


def index_page() -> rx.Component:
    return rx.el.div(hydration_marker(), rx.el.p("Opening your most recent pipeline…", class_name="pw-muted pw-pad"),
                     class_name="pw-app")
