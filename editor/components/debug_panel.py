"""The debugger's controls: Continue / Step in the run bar (Stop is the run bar's own), and the paused
node's resolved inputs, editable as JSON, at the top of the inspector."""

from __future__ import annotations

import reflex as rx

from ..state.debug import DebugState as D

__all__ = ["debug_controls", "paused_panel", "edited_mark"]


def edited_mark(note: rx.Var[str], testid: rx.Var[str] | str) -> rx.Component:
    """"inputs edited at breakpoint (nodes)" beside a run in the history (`history-edited-<run id>`) or in its
    summary (`summary-edited`)."""
    return rx.cond(note != "", rx.el.span(note, class_name="pw-edited-note",
                                          title="A node of this run ran with inputs edited at a breakpoint",
                                          custom_attrs={"data-testid": testid}))


def debug_controls() -> rx.Component:
    return rx.cond(
        D.node_id != "",
        rx.el.div(
            rx.el.span("Paused before ", rx.el.code(D.node_id), class_name="pw-debug-where",
                       custom_attrs={"data-testid": "debug-paused", "data-node-id": D.node_id,
                                     "data-count": D.paused.length()}),
            rx.button("Continue", type="button", size="1", color_scheme="green", on_click=D.resume,
                      title="Run this node (with the inputs shown in the inspector) and go on to the next breakpoint",
                      custom_attrs={"data-testid": "debug-continue"}),
            rx.button("Step", type="button", size="1", variant="soft", on_click=D.step,
                      title="Run this node, then pause at the nodes it makes ready",
                      custom_attrs={"data-testid": "debug-step"}),
            class_name="pw-row pw-nowrap pw-debug-controls",
        ),
    )


def _other_paused() -> rx.Component:
    return rx.cond(
        D.paused.length() > 1,
        rx.el.p("Also paused: ", rx.foreach(D.paused, lambda n: rx.cond(n != D.node_id, rx.el.code(n, " "))),
                "(select one on the canvas to decide it).", class_name="pw-muted"),
    )


def paused_panel() -> rx.Component:
    return rx.cond(
        D.node_id != "",
        rx.el.section(
            rx.el.div(rx.el.span(class_name="pw-bp-dot pw-bp-dot-on"), "Paused before ", rx.el.code(D.node_id),
                      rx.cond(D.reason == "step", " (step)", " (breakpoint)"), class_name="pw-insp-title"),
            rx.el.p("Its inputs as it would receive them. Edit the JSON (each value is checked against the port's "
                    "type), then Continue or Step in the run bar.", class_name="pw-muted"),
            rx.el.textarea(default_value=D.inputs_text, key=D.node_id + ":" + D.inputs_key.to(str),
                           on_blur=D.set_draft, rows=8, spell_check=False, class_name="pw-input pw-mono pw-paused-inputs",
                           custom_attrs={"data-testid": "paused-inputs", "aria-label": "Paused node inputs (JSON)"}),
            rx.cond(D.error != "", rx.el.div(D.error, class_name="pw-field-error",
                                             custom_attrs={"data-testid": "paused-inputs-error", "role": "alert"})),
            _other_paused(),
            class_name="pw-paused",
            custom_attrs={"data-testid": "paused-panel", "data-node-id": D.node_id},
        ),
    )
