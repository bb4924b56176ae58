"""The editor's top bar (name, save state, graph actions) and the save-conflict banner."""

from __future__ import annotations

import reflex as rx

from .. import routes
from ..state.editor import EditorState
from ..state.new_pipeline import NewPipelineState
from ..state.run import RunState
from ..state.versions import VersionsState
from .flow.canvas import ADD_NOTE_JS, FIT_VIEW_JS, LAYOUT_JS

__all__ = ["topbar", "conflict_banner", "save_status"]


def _button(label: str, testid: str, on_click, *, title: str, disabled=False, variant: str = "soft") -> rx.Component:
    return rx.button(label, on_click=on_click, disabled=disabled, title=title, size="1", variant=variant,
                     custom_attrs={"data-testid": testid})


def save_status() -> rx.Component:
    return rx.el.span(
        rx.match(EditorState.save_status, ("saved", "Saved"), ("saving", "Saving…"), ("unsaved", "Unsaved changes"),
                 ("error", "Not saved"), "Saved"),
        title=EditorState.save_message,
        class_name="pw-save pw-save-" + EditorState.save_status,
        custom_attrs={"data-testid": "save-status", "data-state": EditorState.save_status,
                      "data-revision": EditorState.revision},
    )


def topbar() -> rx.Component:
    return rx.el.header(
        rx.el.a("Patchwire", href=routes.PIPELINES, class_name="pw-brand", title="All pipelines",
                custom_attrs={"data-testid": "pipelines-link"}),
        rx.debounce_input(
            rx.el.input(value=EditorState.pipeline_name, on_change=EditorState.rename, class_name="pw-name",
                        aria_label="Pipeline name", custom_attrs={"data-testid": "pipeline-name"}),
            debounce_timeout=300,
        ),
        save_status(),
        rx.el.div(
            _button("Undo", "undo-button", EditorState.undo({}), title="Undo (Ctrl+Z)", disabled=~EditorState.can_undo),
            _button("Redo", "redo-button", EditorState.redo({}), title="Redo (Ctrl+Shift+Z)",
                    disabled=~EditorState.can_redo),
            _button("Auto-layout", "layout-button", rx.call_script(LAYOUT_JS), title="Arrange left to right"),
            _button("Fit view", "fit-view-button", rx.call_script(FIT_VIEW_JS), title="Show the pipeline at a readable zoom (a large one from its start; the minimap shows the rest)"),
            _button("Add note", "add-note-button", rx.call_script(ADD_NOTE_JS),
                    title="A sticky note (Markdown) in the middle of the canvas; double-click it to edit"),
            _button("Delete", "delete-button", EditorState.delete_selected, title="Delete the selection (Delete)",
                    disabled=(EditorState.selected_nodes.length() + EditorState.selected_edges.length()) == 0),
            class_name="pw-toolbar",
        ),
        rx.el.div(
            _button("Validate", "validate-button", EditorState.validate_now, title="Check the whole pipeline"),
            _button("Export", "export-button", EditorState.export_spec, title="Download the spec as JSON"),
            _button("Versions", "versions-button", VersionsState.open_dialog, title="Named versions"),
            rx.el.a("Review inbox", rx.cond(RunState.pending_reviews > 0,
                                            rx.el.span(RunState.pending_reviews.to(str), class_name="pw-count-badge")),
                    href=routes.REVIEWS, class_name="pw-link", title="Answers waiting for a human decision",
                    custom_attrs={"data-testid": "review-inbox-link", "data-pending": RunState.pending_reviews}),
            _button("New pipeline", "new-pipeline-button", NewPipelineState.open_dialog,
                    title="Empty, from a template, or import a spec file", variant="solid"),
            class_name="pw-toolbar pw-toolbar-right",
        ),
        class_name="pw-topbar",
    )


def conflict_banner() -> rx.Component:
    return rx.cond(
        EditorState.save_status == "error",
        rx.el.div(
            rx.el.span(EditorState.save_message, custom_attrs={"data-testid": "save-error"}),
            rx.cond(
                EditorState.conflict,
                rx.el.span(
                    rx.button("Load their version", on_click=EditorState.load_theirs, size="1", variant="soft",
                              custom_attrs={"data-testid": "conflict-load"}),
                    rx.button("Overwrite with mine", on_click=EditorState.overwrite_theirs, size="1",
                              color_scheme="red", variant="soft", custom_attrs={"data-testid": "conflict-overwrite"}),
                    class_name="pw-row",
                ),
            ),
            class_name="pw-banner",
            custom_attrs={"role": "alert"},
        ),
    )
