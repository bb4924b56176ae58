"""Inspector forms generated from a params JSON Schema, and the parsing/checking of what users type.

A field is a plain dict the page renders with `rx.foreach`: `kind` picks the widget (text, textarea,
number, integer, select, bool, json, model), `value` is the text shown, `error` the message under it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

__all__ = ["FieldError", "schema_fields", "parse_value", "check_field", "effective_values", "MULTILINE_NAMES"]

MULTILINE_NAMES = frozenset({"template", "system_prompt", "instructions", "criteria", "prompt", "system"})
_TRI_STATE = [{"value": "", "label": "Component default", "json": "null"},
              {"value": "true", "label": "Yes", "json": "true"}, {"value": "false", "label": "No", "json": "false"}]


class FieldError(ValueError):
    """What the user typed cannot be used; the message is shown under the field."""


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**defs.get(ref.split("/")[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _unwrap(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(`prop` without its `| None` branch, whether None is allowed)."""
    prop = _resolve(prop, defs)
    options = prop.get("anyOf")
    if not isinstance(options, list):
        return prop, prop.get("type") == "null"
    branches = [_resolve(o, defs) for o in options if o.get("type") != "null"]
    nullable = len(branches) < len(options)
    if len(branches) == 1:
        outer = {k: v for k, v in prop.items() if k != "anyOf"}
        return {**branches[0], **outer}, nullable
    return prop, nullable


def _kind(name: str, prop: dict[str, Any], nullable: bool) -> str:
    widget = prop.get("x-widget")
    if widget in ("textarea", "json"):
        return str(widget)
    if widget == "model-picker" or (name == "model" and prop.get("type") == "string"):
        return "model"
    if "enum" in prop or "const" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "tristate" if nullable else "bool"
    if kind in ("integer", "number"):
        return str(kind)
    if kind == "string":
        return "textarea" if name in MULTILINE_NAMES or prop.get("format") == "multiline" else "text"
    return "json"


def _bounds(prop: dict[str, Any]) -> tuple[str, str, str]:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    parts = []
    if low is not None:
        parts.append(f"{'>' if 'exclusiveMinimum' in prop else '≥'} {low}")
    if high is not None:
        parts.append(f"{'<' if 'exclusiveMaximum' in prop else '≤'} {high}")
    return ("" if low is None else str(low)), ("" if high is None else str(high)), ", ".join(parts)


def _text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    if kind == "tristate":
        return json.dumps(value)
    if kind == "select":
        return _option_value(value)
    if isinstance(value, float) and value.is_integer() and kind == "number":
        return str(value)
    return str(value)


def _option_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def schema_fields(schema: dict[str, Any], values: dict[str, Any], *, prefix: str,
                  drafts: dict[str, str] | None = None, errors: dict[str, str] | None = None
                  ) -> list[dict[str, Any]]:
    """One field dict per property of `schema`, showing `values` (or the user's unsaved `drafts`)."""
    drafts, errors = drafts or {}, errors or {}
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    fields = []
    for name, raw_prop in schema.get("properties", {}).items():
        prop, nullable = _unwrap(raw_prop, defs)
        kind = _kind(name, prop, nullable)
        low, high, bounds = _bounds(prop)
        options: list[dict[str, str]] = []
        if kind == "select":
            choices = prop.get("enum", [prop.get("const")])
            options = ([{"value": "", "label": "(none)", "json": "null"}] if nullable else []) + [
                {"value": _option_value(c), "label": str(c), "json": json.dumps(c)} for c in choices]
        elif kind == "tristate":
            options = _TRI_STATE
        help_text = raw_prop.get("description") or prop.get("description") or ""
        if bounds:
            help_text = f"{help_text} ({bounds})" if help_text else f"Allowed: {bounds}"
        value = values.get(name)
        fields.append({
            "name": name, "label": raw_prop.get("title") or prop.get("title") or name.replace("_", " ").capitalize(),
            "kind": kind, "value": drafts.get(name, _text(kind, value)), "checked": bool(value),
            "options": options, "min": low, "max": high, "step": "1" if kind == "integer" else "any",
            "help": help_text, "error": errors.get(name, ""), "required": name in required,
            "nullable": nullable, "testid": f"{prefix}-{name}",
        })
    return fields


def parse_value(field: dict[str, Any], raw: Any) -> Any:
    """Turn what the widget gives (text, or a bool for switches) into the JSON value for the spec."""
    kind, nullable = field["kind"], field["nullable"]
    if kind == "bool":
        return bool(raw) if not isinstance(raw, str) else raw.lower() in ("true", "1", "on")
    text = "" if raw is None else str(raw)
    if kind in ("text", "textarea", "model"):
        return None if nullable and text == "" else text
    if text.strip() == "":
        if nullable or kind == "json":
            return None
        raise FieldError("Enter a whole number." if kind == "integer" else
                         "Enter a number." if kind == "number" else "Choose a value.")
    if kind in ("integer", "number"):
        return _parse_number(text.strip(), integer=kind == "integer")
    if kind in ("select", "tristate"):
        for option in field["options"]:
            if option["value"] == text:
                return json.loads(option["json"])
        raise FieldError(f"Choose one of: {', '.join(o['label'] for o in field['options'])}.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


def _parse_number(text: str, *, integer: bool) -> int | float:
    if integer:
        try:
            return int(text)
        except ValueError:
            raise FieldError(f"Enter a whole number (got {text!r}).") from None
    try:
        number = float(text)
    except ValueError:
        raise FieldError(f"Enter a number (got {text!r}).") from None
    if not math.isfinite(number):
        raise FieldError("Enter a finite number.")
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def check_field(model: type[BaseModel], values: dict[str, Any], name: str, value: Any) -> str | None:
    """pydantic's message for `name` = `value` (other fields' problems are not this field's), or None."""
    try:
        model.model_validate({**values, name: value})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if error["loc"] and str(error["loc"][0]) == name:
                return str(error["msg"]) + "."
    return None


def effective_values(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """What the component will actually use: the given values over the defaults (JSON data)."""
    try:
        return model.model_validate(values).model_dump(mode="json")
    except ValidationError:
        defaults: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if not info.is_required():
                try:
                    defaults[name] = to_jsonable_python(info.get_default(call_default_factory=True))
                except Exception:  # noqa: BLE001 - an odd default: show it empty
                    defaults[name] = None
        return {**defaults, **values}
