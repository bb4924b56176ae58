"""`/reviews`: the human review inbox. `?task=<id>` opens one task."""

from __future__ import annotations

from typing import Any

import reflex as rx

from .. import routes
from ..components.document_card import document_card
from ..state.reviews import ReviewState as R
from .editor_page import hydration_marker

__all__ = ["reviews_page", "ROUTE", "ON_LOAD"]

ROUTE = routes.REVIEWS
ON_LOAD = R.load


def _item(row: Any) -> rx.Component:
    task_id = row["id"].to(str)
    return rx.el.button(
        rx.el.div(rx.el.b(row["question"].to(str)), class_name="pw-review-q"),
        rx.el.div(row["draft"].to(str), class_name="pw-muted"),
        rx.el.div(
            rx.cond(row["score"].to(str) != "", rx.el.span("score ", row["score"].to(str), class_name="pw-score")),
            rx.el.span(row["status"].to(str), class_name="pw-chip pw-chip-" + row["status"].to(str)),
            rx.el.span(row["created"].to(str), class_name="pw-muted"),
            class_name="pw-row",
        ),
        type="button",
        on_click=R.open_task(task_id),
        class_name=rx.cond(R.task["id"].to(str) == task_id, "pw-review-item pw-review-on", "pw-review-item"),
        custom_attrs={"data-testid": "review-item-" + task_id, "data-status": row["status"].to(str)},
    )


def _detail() -> rx.Component:
    t = R.task
    pending = t["status"].to(str) == "pending"
    return rx.el.div(
        rx.el.h3(t["question"].to(str), custom_attrs={"data-testid": "review-question"}),
        rx.el.div(
            rx.el.span(t["status"].to(str), class_name="pw-chip pw-chip-" + t["status"].to(str),
                       custom_attrs={"data-testid": "review-status", "data-status": t["status"].to(str)}),
            rx.cond(t["score"].to(str) != "", rx.el.span("score ", t["score"].to(str), class_name="pw-score",
                                                          custom_attrs={"data-testid": "review-score"})),
            rx.el.span("queue ", rx.el.code(t["queue"].to(str)), class_name="pw-muted"),
            rx.cond(t["run_url"].to(str) != "", rx.el.a("Open the run →", href=t["run_url"].to(str), class_name="pw-open",
                                                         custom_attrs={"data-testid": "review-run-link"})),
            class_name="pw-row",
        ),
        rx.cond(t["decided"].to(str) != "",
                rx.el.p(t["status"].to(str), " by ", t["reviewer"].to(str), " at ", t["decided"].to(str),
                        class_name="pw-muted", custom_attrs={"data-testid": "review-decided"})),
        rx.cond(t["instructions"].to(str) != "", rx.el.p(t["instructions"].to(str), class_name="pw-desc")),
        rx.el.h4("Draft answer", class_name="pw-section"),
        rx.el.pre(t["draft"].to(str), class_name="pw-pre", custom_attrs={"data-testid": "review-draft"}),
        rx.el.h4("Context", class_name="pw-section"),
        rx.cond(t["documents"].to(list[dict[str, Any]]).length() > 0,
                rx.foreach(t["documents"].to(list[dict[str, Any]]), document_card),
                rx.cond(t["context_text"].to(str) != "", rx.el.pre(t["context_text"].to(str), class_name="pw-pre"),
                        rx.el.p("No context was retrieved for this question.", class_name="pw-muted",
                                custom_attrs={"data-testid": "review-no-context"}))),
        rx.cond(t["final_answer"].to(str) != "", rx.el.div(
            rx.el.h4("Final answer", class_name="pw-section"),
            rx.el.pre(t["final_answer"].to(str), class_name="pw-pre", custom_attrs={"data-testid": "review-final"}))),
        rx.cond(pending, rx.el.div(
            rx.el.h4("Your decision", class_name="pw-section"),
            rx.el.textarea(value=R.edit_text, on_change=R.set_edit_text, rows=5, class_name="pw-input",
                           custom_attrs={"data-testid": "review-edit-text", "aria-label": "Corrected answer"}),
            rx.el.p("Edit the answer above, then “Save edit”; or approve the draft as it is; or reject it.",
                    class_name="pw-help"),
        )),
        rx.cond(pending, rx.el.div(
            rx.button("Approve", on_click=R.decide("approve"), color_scheme="green", size="2",
                      custom_attrs={"data-testid": "review-approve"}),
            rx.button("Save edit", on_click=R.decide("edit"), size="2", variant="soft",
                      custom_attrs={"data-testid": "review-edit"}),
            rx.button("Reject", on_click=R.decide("reject"), color_scheme="red", size="2", variant="soft",
                      custom_attrs={"data-testid": "review-reject"}),
            class_name="pw-row",
        )),
        rx.cond(R.message != "", rx.el.div(R.message, class_name="pw-review-msg pw-review-msg-" + R.message_kind,
                                            custom_attrs={"data-testid": "review-message", "role": "status",
                                                          "data-kind": R.message_kind})),
        class_name="pw-review-detail",
        custom_attrs={"data-testid": "review-detail", "data-task-id": t["id"].to(str)},
    )


def reviews_page() -> rx.Component:
    return rx.el.div(
        hydration_marker(),
        rx.el.header(
            rx.el.a("Patchwire", href=routes.INDEX, class_name="pw-brand"),
            rx.el.span("Review inbox", class_name="pw-name"),
            rx.el.a("All pipelines", href=routes.PIPELINES, class_name="pw-open"),
            class_name="pw-topbar",
        ),
        rx.el.main(
            rx.el.aside(
                rx.el.h4("Waiting for a decision (", R.pending.length().to(str), ")", class_name="pw-section"),
                rx.cond(R.pending.length() > 0, rx.foreach(R.pending, _item),
                        rx.el.p("Nothing to review.", class_name="pw-muted", custom_attrs={"data-testid": "review-empty"})),
                rx.el.h4("Decided recently", class_name="pw-section"),
                rx.foreach(R.decided, _item),
                class_name="pw-review-list",
                custom_attrs={"data-testid": "review-inbox", "data-count": R.pending.length(),
                              "data-loaded": R.loaded.to(str)},
            ),
            rx.cond(R.task.length() > 0, _detail(),
                    rx.el.p("Pick a task on the left.", class_name="pw-muted pw-pad")),
            class_name="pw-review-page",
        ),
        class_name="pw-app",
    )
