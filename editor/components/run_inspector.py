"""The inspector's run section: what the selected node did in the shown run, and its pin / Run from here."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.editor import EditorState
from ..state.node_run import NodeRunState as N
from ..state.run import RunState
from ..state.subflow_nav import SubflowNavState
from .document_card import document_card
from .json_view import json_tree
from .monitor_panel import node_network_line

__all__ = ["run_section", "pin_controls"]


def _kv(label: str, value: Any, testid: str) -> rx.Component:
    return rx.el.div(rx.el.span(label, class_name="pw-kv-label"), rx.el.span(value, custom_attrs={"data-testid": testid}),
                     class_name="pw-kv")


def _head() -> rx.Component:
    return rx.el.div(
        rx.el.span(N.status, class_name="pw-chip pw-chip-" + N.status,
                   custom_attrs={"data-testid": "node-run-status", "data-status": N.status}),
        rx.cond(N.latency != "", _kv("latency", N.latency, "node-run-latency")),
        rx.cond(N.attempts > 0, _kv("attempts", N.attempts.to(str), "node-run-attempts")),
        class_name="pw-row",
    )


def _error() -> rx.Component:
    return rx.cond(
        N.error_type != "",
        rx.el.div(
            rx.el.div(rx.el.b(N.error_type), rx.cond(N.handled, " (handled: the run went on)", ""), class_name="pw-err-type"),
            rx.el.div(N.error_message, class_name="pw-err-msg", custom_attrs={"data-testid": "node-error-message"}),
            rx.cond(N.traceback != "", rx.el.details(rx.el.summary("Traceback"), rx.el.pre(N.traceback, class_name="pw-pre"),
                                                     custom_attrs={"data-testid": "node-traceback"})),
            class_name="pw-node-error",
            custom_attrs={"data-testid": "node-error", "role": "alert"},
        ),
    )


def _retries() -> rx.Component:
    return rx.cond(
        N.retries.length() > 0,
        rx.el.div(
            rx.el.h4("Retries", class_name="pw-section"),
            rx.foreach(N.retries, lambda r: rx.el.div(
                "attempt ", r["attempt"], " after ", r["delay"], ": ", rx.el.span(r["error"], class_name="pw-err-msg"),
                class_name="pw-retry", key=r["key"])),
            custom_attrs={"data-testid": "node-retries"},
        ),
    )


def _message(m: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(m["role"], class_name="pw-msg-role"),
        rx.el.pre(m["content"], class_name="pw-pre pw-msg-content"),
        class_name="pw-msg pw-msg-" + m["role"].to(str),
        custom_attrs={"data-testid": "model-message", "data-role": m["role"]},
        key=m["key"],
    )


def _call(call: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.b("Call ", call["index"].to(str)), " · ", rx.el.code(call["model"].to(str)),
            " · ", call["tokens_in"].to(str), " in / ", call["tokens_out"].to(str), " out · ", call["cost"].to(str),
            " · ", call["latency"].to(str), rx.cond(call["fallback"].to(bool), " · fallback", ""),
            " · attempt ", call["attempt"].to(str),
            class_name="pw-call-head",
        ),
        rx.cond(call["params"].to(str) != "", rx.el.div(call["params"].to(str), class_name="pw-muted")),
        rx.foreach(call["messages"].to(list[dict[str, str]]), _message),
        rx.cond(call["error"].to(str) != "", rx.el.div(call["error"].to(str), class_name="pw-err-msg")),
        rx.cond(call["response"].to(str) != "",
                rx.el.div(rx.el.div("reply", class_name="pw-msg-role"),
                          rx.el.pre(call["response"].to(str), class_name="pw-pre pw-msg-content"),
                          class_name="pw-msg pw-msg-assistant")),
        class_name="pw-call",
        custom_attrs={"data-testid": "model-call-" + call["index"].to(str)},
        key=call["key"].to(str),
    )


def _model() -> rx.Component:
    return rx.cond(
        N.calls.length() > 0,
        rx.el.div(
            rx.el.h4("Model", class_name="pw-section"),
            rx.el.div(
                _kv("model", N.model, "node-model"),
                _kv("tokens in", N.tokens_in.to(str), "node-tokens-in"),
                _kv("tokens out", N.tokens_out.to(str), "node-tokens-out"),
                _kv("cost", N.cost, "node-cost"),
                class_name="pw-kvs",
            ),
            rx.el.details(rx.el.summary("Messages sent to the model (", N.calls.length().to(str), " call",
                                        rx.cond(N.calls.length() > 1, "s", ""), ")"),
                          rx.foreach(N.calls, _call), open=True, custom_attrs={"data-testid": "model-calls"}),
        ),
    )


def _values() -> rx.Component:
    return rx.el.div(
        rx.cond(N.documents.length() > 0,
                rx.el.div(rx.el.h4("Documents", class_name="pw-section"), rx.foreach(N.documents, document_card))),
        rx.cond(N.has_data, rx.el.div(
            rx.cond(N.inputs.length() > 0, rx.el.div(
                rx.el.h4("Inputs", class_name="pw-section"), json_tree(N.inputs, "node-inputs", 1))),
            rx.cond(N.outputs.length() > 0, rx.el.div(
                rx.el.h4("Outputs", class_name="pw-section"), json_tree(N.outputs, "node-outputs", 2))),
            rx.cond(N.trace.length() > 0, rx.el.div(rx.el.h4("Trace", class_name="pw-section"), json_tree(N.trace, "node-trace", 1))),
            rx.cond(N.logs.length() > 0, rx.el.div(
                rx.el.h4("Logs", class_name="pw-section"),
                rx.foreach(N.logs, lambda line: rx.el.div(rx.el.code(line["level"]), " ", line["message"], key=line["key"])),
                custom_attrs={"data-testid": "node-logs"})),
            rx.cond(N.truncated, rx.button("Show full values", on_click=N.show_full, size="1", variant="soft",
                                           custom_attrs={"data-testid": "show-full"})),
            rx.cond(N.full_error != "", rx.el.div(N.full_error, class_name="pw-field-error")),
        )),
    )


def pin_controls() -> rx.Component:
    """Pin the node's output for development runs (stored with the pipeline, never in the spec)."""
    return rx.cond(
        (EditorState.viewing_run == "") & (SubflowNavState.scope == ""),  # pins are for the pipeline's own nodes
        rx.el.div(
            rx.cond(
                N.pin_origin != "",
                rx.el.div("Pinned output (", N.pin_origin, "): development runs from this editor use it instead of "
                          "running the node. Exports never contain it.", class_name="pw-pin-note",
                          custom_attrs={"data-testid": "pin-origin"}),
            ),
            rx.el.div(
                rx.cond(RunState.run_id != "", rx.button(
                    "Run from here", on_click=RunState.run_from_here(N.node_id), size="1", variant="soft",
                    disabled=RunState.status == "running",
                    title="Re-run this node and what depends on it, reusing the last run's outputs upstream",
                    custom_attrs={"data-testid": "run-from-here"})),
                rx.cond(N.has_data & ((N.status == "succeeded") | (N.status == "cached")), rx.button(
                    "Pin this output", on_click=N.pin_last_output, size="1", variant="soft",
                    custom_attrs={"data-testid": "pin-output"})),
                rx.button("Pin JSON…", on_click=N.toggle_pin_editor, size="1", variant="soft",
                          custom_attrs={"data-testid": "pin-json-toggle"}),
                rx.cond(N.pin_origin != "", rx.button("Unpin", on_click=N.unpin, size="1", variant="soft",
                                                       color_scheme="orange", custom_attrs={"data-testid": "unpin"})),
                class_name="pw-row",
            ),
            rx.cond(N.pin_open, rx.el.form(
                rx.el.textarea(name="pin", rows=4, class_name="pw-input pw-mono",
                               placeholder='{"text": "a mocked reply"}', custom_attrs={"data-testid": "pin-json"}),
                rx.cond(N.pin_error != "", rx.el.div(N.pin_error, class_name="pw-field-error",
                                                      custom_attrs={"data-testid": "pin-error", "role": "alert"})),
                rx.button("Pin", type="submit", size="1", custom_attrs={"data-testid": "pin-json-apply"}),
                on_submit=N.pin_json, reset_on_submit=False, class_name="pw-pin-form",
            )),
            class_name="pw-run-tools",
        ),
    )


def run_section() -> rx.Component:
    return rx.el.section(
        rx.cond(
            N.shown,
            rx.el.div(
                rx.el.h4("In this run", class_name="pw-section"),
                _head(),
                node_network_line(),
                rx.cond(N.cache != "", rx.el.div(N.cache, class_name="pw-cache-note",
                                                  custom_attrs={"data-testid": "node-cache", "data-source": N.cache_source})),
                rx.cond(N.skip_reason != "", rx.el.div("Skipped: ", N.skip_reason, class_name="pw-skip-note",
                                                        custom_attrs={"data-testid": "node-skip-reason"})),
                _error(),
                _retries(),
                rx.cond((N.streamed != "") & ~N.has_data, rx.el.div(
                    rx.el.h4(rx.cond(N.status == "running", "Streaming…", "Streamed"), class_name="pw-section"),
                    rx.el.pre(N.streamed, class_name="pw-pre pw-streamed", custom_attrs={"data-testid": "node-streamed"}))),
                _model(),
                _values(),
            ),
        ),
        pin_controls(),
        class_name="pw-run-section",
        custom_attrs={"data-testid": "node-run", "data-shown": N.shown.to(str), "data-status": N.status},
    )
