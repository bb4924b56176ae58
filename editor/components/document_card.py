"""A retrieved document as a card (rank, title, score, text preview): the run inspector and the review inbox
show a node's documents the same way. `card` is one of `editor.node_details.documents_in`'s cards."""

from __future__ import annotations

from typing import Any

import reflex as rx

__all__ = ["document_card"]


def document_card(card: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(rx.el.b("#", card["rank"].to(str), " ", card["title"].to(str)),
                  rx.cond(card["score"].to(str) != "", rx.el.span("score ", card["score"].to(str), class_name="pw-score")),
                  class_name="pw-doc-head"),
        rx.el.div(card["text"].to(str), class_name="pw-doc-text"),
        rx.el.div(card["port"].to(str), " · ", rx.el.code(card["id"].to(str)), class_name="pw-muted"),
        class_name="pw-doc",
        custom_attrs={"data-testid": "doc-card", "data-score": card["score"].to(str)},
        key=card["key"].to(str),
    )
