"""One inspector form field, rendered from a field dict of `editor.forms.schema_fields`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

__all__ = ["form_field"]

DEBOUNCE_MS = 250
_NO_MODELS = rx.Var.create([]).to(list[dict[str, str]])


def _text_input(field: Any, on_text: Callable, input_type: str) -> rx.Component:
    return rx.debounce_input(
        rx.el.input(
            type=input_type, value=field["value"].to(str), on_change=lambda v: on_text(field["name"].to(str), v),
            step=field["step"].to(str), min=field["min"].to(str), max=field["max"].to(str),
            id=field["testid"].to(str), class_name="pw-input",
            custom_attrs={"data-testid": field["testid"].to(str)},
        ),
        debounce_timeout=DEBOUNCE_MS,
    )


def _model_input(field: Any, on_text: Callable, models: Any, on_focus: Any) -> rx.Component:
    list_id = "models-" + field["name"].to(str)
    return rx.el.div(
        rx.debounce_input(
            rx.el.input(
                type="text", value=field["value"].to(str), on_change=lambda v: on_text(field["name"].to(str), v),
                id=field["testid"].to(str), class_name="pw-input", placeholder="provider/model",
                custom_attrs={"data-testid": field["testid"].to(str), "list": list_id},
                **({"on_focus": on_focus} if on_focus is not None else {}),
            ),
            debounce_timeout=DEBOUNCE_MS,
        ),
        rx.el.datalist(rx.foreach(models, lambda m: rx.el.option(m["label"].to(str), value=m["name"].to(str))),
                       id=list_id),
    )


def _textarea(field: Any, on_text: Callable, rows: int, mono: bool) -> rx.Component:
    return rx.debounce_input(
        rx.el.textarea(
            value=field["value"].to(str), on_change=lambda v: on_text(field["name"].to(str), v), rows=rows,
            id=field["testid"].to(str), class_name="pw-input pw-textarea" + (" pw-mono" if mono else ""),
            spell_check=not mono, custom_attrs={"data-testid": field["testid"].to(str)},
        ),
        debounce_timeout=DEBOUNCE_MS,
    )


def _select(field: Any, on_text: Callable) -> rx.Component:
    return rx.el.select(
        rx.foreach(field["options"].to(list[dict[str, str]]),
                   lambda o: rx.el.option(o["label"], value=o["value"])),
        value=field["value"].to(str), on_change=lambda v: on_text(field["name"].to(str), v),
        id=field["testid"].to(str), class_name="pw-input", custom_attrs={"data-testid": field["testid"].to(str)},
    )


def _switch(field: Any, on_bool: Callable | None) -> rx.Component:
    return rx.switch(
        checked=field["checked"].to(bool),
        on_change=(lambda v: on_bool(field["name"].to(str), v)) if on_bool is not None else None,
        id=field["testid"].to(str), custom_attrs={"data-testid": field["testid"].to(str)},
    )


def form_field(field: Any, *, on_text: Callable, on_bool: Callable | None = None, models: Any = None,
               on_models: Any = None, key_prefix: Any = "") -> rx.Component:
    """Label, widget (by `kind`), the error under it, and the field's description as help text."""
    control = rx.match(
        field["kind"].to(str),
        ("bool", _switch(field, on_bool)),
        ("select", _select(field, on_text)),
        ("tristate", _select(field, on_text)),
        ("textarea", _textarea(field, on_text, rows=6, mono=False)),
        ("json", _textarea(field, on_text, rows=4, mono=True)),
        ("model", _model_input(field, on_text, models if models is not None else _NO_MODELS, on_models)),
        ("integer", _text_input(field, on_text, "number")),
        ("number", _text_input(field, on_text, "number")),
        _text_input(field, on_text, "text"),
    )
    return rx.el.div(
        rx.el.label(
            field["label"].to(str), rx.cond(field["required"].to(bool), rx.el.span(" *", class_name="pw-req")),
            rx.el.code(field["name"].to(str), class_name="pw-field-name"),
            html_for=field["testid"].to(str), class_name="pw-label",
        ),
        control,
        rx.cond(field["error"].to(str) != "",
                rx.el.div(field["error"].to(str), class_name="pw-field-error",
                          custom_attrs={"data-testid": "error-" + field["testid"].to(str), "role": "alert"})),
        rx.cond(field["help"].to(str) != "", rx.el.div(field["help"].to(str), class_name="pw-help")),
        class_name="pw-field",
        key=key_prefix + ":" + field["testid"].to(str),
    )
