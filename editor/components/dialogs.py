"""Dialogs: new pipeline (empty / template / import a spec file) and named versions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.new_pipeline import UPLOAD_ID, NewPipelineState
from ..state.versions import VersionsState
from .upload_refusal import upload_refusal

__all__ = ["new_pipeline_dialog", "versions_dialog"]


def _template(t: Any) -> rx.Component:
    name = t["name"].to(str)
    return rx.el.button(
        rx.el.div(t["title"].to(str), class_name="pw-item-title"),
        rx.el.div(rx.cond(t["error"].to(str) != "", t["error"].to(str), t["description"].to(str)), class_name="pw-muted"),
        rx.el.div(name, ".json · ", t["nodes"].to(str), " nodes", class_name="pw-item-id"),
        on_click=NewPipelineState.create_from_template(name),
        disabled=t["error"].to(str) != "",
        type="button",
        class_name="pw-choice",
        custom_attrs={"data-testid": "template-" + name},
    )


def _import_error(e: Any) -> rx.Component:
    return rx.el.li(rx.el.span(e["message"].to(str)), rx.el.span(e["hint"].to(str), class_name="pw-issue-hint"))


def new_pipeline_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New pipeline"),
            rx.el.button(
                rx.el.div("Empty pipeline", class_name="pw-item-title"),
                rx.el.div("Start from a blank canvas.", class_name="pw-muted"),
                on_click=NewPipelineState.create_empty, type="button", class_name="pw-choice",
                custom_attrs={"data-testid": "new-empty"},
            ),
            rx.el.h4("From a template", class_name="pw-section"),
            rx.cond(NewPipelineState.templates.length() == 0,
                    rx.el.p("No templates found in templates/.", class_name="pw-muted")),
            rx.el.div(rx.foreach(NewPipelineState.templates, _template), class_name="pw-choices"),
            rx.el.h4("Import a spec file", class_name="pw-section"),
            rx.upload(
                rx.el.div("Drop a .json or .yaml spec here, or click to choose one. It is checked, never run.",
                          class_name="pw-muted"),
                id=UPLOAD_ID, max_files=1, multiple=False,
                on_drop=NewPipelineState.import_file(rx.upload_files(upload_id=UPLOAD_ID)),
                class_name="pw-dropzone", custom_attrs={"data-testid": "import-spec"},
            ),
            upload_refusal(NewPipelineState.import_file, NewPipelineState.import_refused),
            rx.cond(
                NewPipelineState.import_errors.length() > 0,
                rx.el.div(
                    rx.el.strong(NewPipelineState.import_title),
                    rx.el.ul(rx.foreach(NewPipelineState.import_errors, _import_error)),
                    class_name="pw-import-errors", custom_attrs={"data-testid": "import-errors", "role": "alert"},
                ),
            ),
            rx.dialog.close(rx.button("Cancel", variant="soft", size="1", custom_attrs={"data-testid": "new-cancel"})),
            class_name="pw-dialog",
            custom_attrs={"data-testid": "new-pipeline-dialog"},
        ),
        open=NewPipelineState.open,
        on_open_change=NewPipelineState.set_open,
    )


def _version(v: Any) -> rx.Component:
    return rx.el.li(
        rx.el.div(rx.el.strong(v["label"].to(str)),
                  rx.el.div(v["created"].to(str), " · revision ", v["revision"].to(str), " · ", v["nodes"].to(str),
                            " nodes", class_name="pw-muted")),
        rx.button("Restore", on_click=VersionsState.restore(v["id"].to(int)), size="1", variant="soft",
                  custom_attrs={"data-testid": "restore-version-" + v["id"].to(str)}),
        class_name="pw-version",
    )


def versions_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Named versions"),
            rx.el.div(
                rx.el.input(value=VersionsState.label, on_change=VersionsState.set_label, class_name="pw-input",
                            placeholder="Name this version, e.g. before reranker",
                            custom_attrs={"data-testid": "version-label"}),
                rx.button("Save version", on_click=VersionsState.save_version, size="1",
                          custom_attrs={"data-testid": "save-version"}),
                class_name="pw-row",
            ),
            rx.cond(VersionsState.versions.length() == 0, rx.el.p("No named versions yet.", class_name="pw-muted")),
            rx.el.ul(rx.foreach(VersionsState.versions, _version), class_name="pw-versions",
                     custom_attrs={"data-testid": "versions-list"}),
            rx.dialog.close(rx.button("Close", variant="soft", size="1")),
            class_name="pw-dialog",
        ),
        open=VersionsState.open,
        on_open_change=VersionsState.set_open,
    )
