"""Validation issues listed under the canvas; clicking one selects and shows its node."""

from __future__ import annotations

import reflex as rx

from ..state.editor import EditorState
from ..views import IssueRow

__all__ = ["issues_panel"]


def _row(issue: rx.Var[IssueRow]) -> rx.Component:
    node_id = issue["node_id"]
    return rx.el.button(
        rx.el.span(rx.cond(issue["severity"] == "error", "Error", "Warning"),
                   class_name="pw-sev pw-sev-" + issue["severity"]),
        rx.cond(node_id != "", rx.el.code(node_id + rx.cond(issue["port"] != "", "." + issue["port"], ""),
                                          class_name="pw-issue-where")),
        rx.el.span(
            rx.el.span(issue["message"], class_name="pw-issue-msg"),
            rx.cond(issue["hint"] != "", rx.el.span(issue["hint"], class_name="pw-issue-hint")),
            class_name="pw-issue-text",
        ),
        on_click=EditorState.focus_node(node_id),
        type="button",
        class_name="pw-issue",
        custom_attrs={"data-testid": "issue-" + issue["index"].to(str), "data-node-id": node_id,
                      "data-code": issue["code"], "data-severity": issue["severity"]},
    )


def issues_panel() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.span("Issues", class_name="pw-panel-title"),
            rx.el.span(EditorState.error_count.to(str), " errors · ", EditorState.warning_count.to(str), " warnings",
                       class_name="pw-muted"),
            class_name="pw-panel-head",
        ),
        rx.cond(
            EditorState.issues.length() == 0,
            rx.el.p("No problems found.", class_name="pw-muted pw-pad", custom_attrs={"data-testid": "issues-empty"}),
            rx.el.div(rx.foreach(EditorState.issues, _row), class_name="pw-issue-list"),
        ),
        class_name="pw-issues",
        custom_attrs={"data-testid": "issues-panel", "data-count": EditorState.issues.length(),
                      "data-errors": EditorState.error_count},
    )
