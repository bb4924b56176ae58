"""The left-hand palette: components by category (drag onto the canvas), search, failed plugins greyed out."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.palette import PaletteState

__all__ = ["palette"]


def _item(item: Any) -> rx.Component:
    component_id = item["id"].to(str)
    return rx.el.div(
        rx.el.span(class_name="pw-swatch", style={"background": item["color"].to(str)}),
        rx.el.div(
            rx.el.div(item["title"].to(str), class_name="pw-item-title"),
            rx.el.div(component_id, class_name="pw-item-id"),
        ),
        draggable=True,
        title=item["description"].to(str) + " (drag onto the canvas, or double-click / Enter to add)",
        tab_index=0,
        class_name="pw-palette-item",
        custom_attrs={"data-palette-component": component_id, "data-testid": "palette-item-" + component_id,
                      "role": "button", "aria-label": "Add " + item["title"].to(str)},
    )


def _group(group: Any) -> rx.Component:
    return rx.el.section(
        rx.el.h4(group["category"].to(str), class_name="pw-group-title",
                 style={"border_left_color": group["color"].to(str)}),
        rx.foreach(group["items"].to(list[dict[str, Any]]), _item),
        class_name="pw-group",
        custom_attrs={"data-testid": "palette-group-" + group["category"].to(str)},
    )


def _problem(problem: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(problem["source"].to(str), class_name="pw-item-title"),
        rx.el.div(problem["message"].to(str), class_name="pw-problem-msg"),
        title=problem["message"].to(str),
        class_name="pw-palette-item pw-disabled",
        custom_attrs={"data-testid": "palette-problem-" + problem["index"].to(str), "aria-disabled": "true"},
    )


def palette() -> rx.Component:
    return rx.el.aside(
        rx.debounce_input(
            rx.el.input(value=PaletteState.query, on_change=PaletteState.set_query, placeholder="Search components",
                        type="search", class_name="pw-input", custom_attrs={"data-testid": "palette-search"}),
            debounce_timeout=120,
        ),
        rx.el.div(
            rx.foreach(PaletteState.groups, _group),
            rx.cond(PaletteState.count == 0, rx.el.p("No component matches.", class_name="pw-muted")),
            rx.cond(
                PaletteState.problems.length() > 0,
                rx.el.section(
                    rx.el.h4("Failed to load", class_name="pw-group-title pw-group-failed"),
                    rx.foreach(PaletteState.problems, _problem),
                    class_name="pw-group",
                ),
            ),
            class_name="pw-palette-list",
        ),
        rx.el.p("Drag a component onto the canvas (or double-click it).", class_name="pw-muted pw-palette-foot"),
        class_name="pw-palette",
        custom_attrs={"data-testid": "palette"},
    )
