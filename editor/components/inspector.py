"""The right-hand panel: the selected node's run data and form, a multi-selection summary, or the overview.

The panel keeps `data-testid="inspector"`; an old run's node (read-only) shows its run data only.
"""

from __future__ import annotations

import reflex as rx

from ..state.editor import EditorState
from ..state.inspector import InspectorState
from .debug_panel import paused_panel
from .evaluate_panel import port_asserts
from .fields import form_field
from .flow_items import flow_items
from .run_inspector import run_section

__all__ = ["inspector"]


def _node_form() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.span(class_name="pw-swatch", style={"background": InspectorState.color}),
            rx.el.div(
                rx.el.div(InspectorState.title, class_name="pw-insp-title"),
                rx.el.div(InspectorState.component, " v", InspectorState.version.to(str), " · ",
                          InspectorState.category, class_name="pw-muted"),
            ),
            class_name="pw-insp-head",
        ),
        run_section(),
        port_asserts(),
        flow_items(),
        rx.cond(InspectorState.read_only, rx.el.p(InspectorState.description, class_name="pw-desc"), _editable()),
    )


def _editable() -> rx.Component:
    return rx.el.div(
        rx.el.form(
            rx.el.label("Node id", html_for="node-id", class_name="pw-label"),
            rx.el.div(
                rx.el.input(value=InspectorState.id_text, on_change=InspectorState.set_id_text,
                            on_blur=lambda _value: InspectorState.apply_id(), id="node-id", class_name="pw-input pw-mono",
                            custom_attrs={"data-testid": "node-id"}),
                rx.button("Rename", type="submit", size="1", variant="soft",
                          custom_attrs={"data-testid": "node-id-apply"}),
                class_name="pw-row pw-nowrap",
            ),
            rx.cond(InspectorState.id_error != "",
                    rx.el.div(InspectorState.id_error, class_name="pw-field-error",
                              custom_attrs={"data-testid": "error-node-id", "role": "alert"})),
            on_submit=lambda _form: InspectorState.apply_id(),
            class_name="pw-field",
        ),
        rx.el.p(InspectorState.description, class_name="pw-desc"),
        rx.el.div(
            rx.el.label("Label", html_for="node-label", class_name="pw-label"),
            rx.debounce_input(
                rx.el.input(value=InspectorState.label, on_change=InspectorState.set_label, id="node-label",
                            placeholder="Shown on the canvas instead of the title", class_name="pw-input",
                            custom_attrs={"data-testid": "node-label"}),
                debounce_timeout=250,
            ),
            class_name="pw-field",
        ),
        rx.el.h4("Params", class_name="pw-section"),
        rx.cond(
            InspectorState.param_fields.length() > 0,
            rx.foreach(InspectorState.param_fields, lambda f: form_field(
                f, on_text=InspectorState.set_param, on_bool=InspectorState.set_param_bool,
                models=InspectorState.model_options, on_models=InspectorState.load_models,
                key_prefix=InspectorState.node_id)),
            rx.el.p("This component has no params.", class_name="pw-muted"),
        ),
        rx.el.details(
            rx.el.summary("Policy: timeout, retries, errors, cache", class_name="pw-section"),
            rx.foreach(InspectorState.policy_fields, lambda f: form_field(
                f, on_text=InspectorState.set_policy, key_prefix=InspectorState.node_id)),
            class_name="pw-policy", custom_attrs={"data-testid": "policy-section"},
        ),
        rx.el.div(
            rx.button("Duplicate", on_click=EditorState.on_duplicate({}), variant="soft", size="1",
                      custom_attrs={"data-testid": "inspector-duplicate"}),
            rx.button("Delete node", on_click=EditorState.delete_selected, color_scheme="red", variant="soft", size="1",
                      custom_attrs={"data-testid": "inspector-delete"}),
            class_name="pw-row",
        ),
    )


def _multi() -> rx.Component:
    return rx.el.div(
        rx.el.div(InspectorState.selection_count.to(str), " nodes selected", class_name="pw-insp-title"),
        rx.el.p("Drag them together, copy (Ctrl+C) and paste (Ctrl+V), or:", class_name="pw-muted"),
        rx.el.div(
            rx.button("Duplicate", on_click=EditorState.on_duplicate({}), variant="soft", size="1"),
            rx.button("Delete", on_click=EditorState.delete_selected, color_scheme="red", variant="soft", size="1"),
            class_name="pw-row",
        ),
    )


def _overview() -> rx.Component:
    return rx.el.div(
        rx.el.div("Pipeline", class_name="pw-insp-title"),
        rx.el.p(EditorState.node_count.to(str), " nodes, ", EditorState.edge_count.to(str), " wires, ",
                EditorState.error_count.to(str), " errors, ", EditorState.warning_count.to(str), " warnings.",
                class_name="pw-muted"),
        rx.el.p("Drag components from the palette onto the canvas, wire an output (right) to an input (left), "
                "and select a node to edit its params here.", class_name="pw-desc"),
        rx.el.ul(
            rx.el.li(rx.el.kbd("Delete"), " remove the selection"),
            rx.el.li(rx.el.kbd("Ctrl+Z"), " / ", rx.el.kbd("Ctrl+Shift+Z"), " undo / redo"),
            rx.el.li(rx.el.kbd("Ctrl+C"), " ", rx.el.kbd("Ctrl+V"), " ", rx.el.kbd("Ctrl+D"), " copy, paste, duplicate"),
            rx.el.li(rx.el.kbd("Shift"), "+drag box-select, ", rx.el.kbd("Ctrl"), "+click add to selection"),
            rx.el.li(rx.el.kbd("Ctrl+S"), " save now (edits also save by themselves)"),
            class_name="pw-keys",
        ),
    )


def inspector() -> rx.Component:
    return rx.el.aside(
        paused_panel(),
        rx.cond(
            InspectorState.node_id != "",
            _node_form(),
            rx.cond(InspectorState.selection_count > 1, _multi(), _overview()),
        ),
        class_name="pw-inspector",
        custom_attrs={"data-testid": "inspector", "data-node-id": InspectorState.node_id},
    )
