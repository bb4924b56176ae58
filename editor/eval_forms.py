"""The Evaluate panel's assertion form: which fields each assertion type asks for, and the form's text turned
into a suite `Assertion` (with a message naming the field when it does not validate). No Reflex here."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from pydantic import ValidationError

from runtime.eval.checks import PORTLESS
from runtime.eval.suite import ASSERTION_TYPES, NEEDS_EXPECTED, NEEDS_NODE, Assertion

__all__ = ["FormField", "ASSERTION_TYPES", "fields_for", "assertion_from_form", "default_name", "describe",
           "default_type_for"]

RUN_WIDE = {"latency_ms_lte", "cost_lte", "tokens_lte"}  # `node:` optional: the whole run without it


class FormField(TypedDict):
    name: str
    label: str
    placeholder: str
    kind: str  # text | json (parsed as JSON when it parses, else kept as text) | number


_FIELDS: dict[str, FormField] = {
    "node": FormField(name="node", label="Node", placeholder="node id", kind="text"),
    "port": FormField(name="port", label="Port", placeholder="output port (default: the first)", kind="text"),
    "value": FormField(name="value", label="Expected value", placeholder="text, number or JSON", kind="json"),
    "column": FormField(name="column", label="…or dataset column", placeholder="column with the expected value",
                        kind="text"),
    "threshold": FormField(name="threshold", label="Threshold", placeholder="least score", kind="number"),
    "path": FormField(name="path", label="JSON path", placeholder="items.0.name", kind="text"),
    "schema": FormField(name="schema", label="JSON Schema", placeholder='{"type": "object"}', kind="json"),
    "min": FormField(name="min", label="Min length", placeholder="fewest characters or items", kind="number"),
    "max": FormField(name="max", label="Max length", placeholder="most characters or items", kind="number"),
    "rubric": FormField(name="rubric", label="Rubric", placeholder="what a good answer does", kind="text"),
    "model": FormField(name="model", label="Judge model", placeholder="local/extractive", kind="text"),
    "component": FormField(name="component", label="Component", placeholder="eval.score", kind="text"),
    "params": FormField(name="params", label="Component params", placeholder='{"metric": "..."}', kind="json"),
    "inputs": FormField(name="inputs", label="Component inputs", placeholder='{"text": "generate.text"}',
                        kind="json"),
    "output": FormField(name="output", label="Output port", placeholder="score", kind="text"),
    "weight": FormField(name="weight", label="Weight", placeholder="1", kind="number"),
}

_EXTRA: dict[str, tuple[str, ...]] = {
    "similar": ("threshold",), "llm_rubric": ("rubric", "model", "threshold"), "json_path": ("path",),
    "is_json": ("schema",), "length_between": ("min", "max"),
    "component": ("component", "params", "inputs", "output", "threshold"),
}


def fields_for(kind: str) -> list[FormField]:
    """The form's fields for one assertion type, in the order they are shown (name and type come first)."""
    names: list[str] = []
    if kind in NEEDS_NODE or kind in RUN_WIDE:
        names.append("node")
    if kind not in PORTLESS:
        names.append("port")
    if kind in NEEDS_EXPECTED or kind == "json_path":
        names += ["value", "column"]
    names += list(_EXTRA.get(kind, ())) + ["weight"]
    return [_FIELDS[n] for n in names]


def default_type_for(port_type: str) -> str:
    """The assertion a port suggests: numbers compare (gte), documents by id, text by substring."""
    label = port_type.lower()
    if label in ("float", "int", "number", "integer"):
        return "gte"
    if "document" in label:
        return "contains_id"
    return "icontains" if label in ("str", "text", "string") else "fired"


def default_name(kind: str, node: str, port: str, taken: set[str]) -> str:
    base = "_".join(p for p in (node, port if port and kind not in PORTLESS else "", kind) if p) or kind
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _parse(field: FormField, text: str) -> Any:
    if field["kind"] == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{field['label']}: `{text}` is not a number.") from None
    if field["kind"] == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            if field["name"] in ("schema", "params", "inputs"):
                raise ValueError(f"{field['label']}: not valid JSON (e.g. {field['placeholder']}).") from None
            return text  # an expected value may be plain text
    return text


def assertion_from_form(form: dict[str, Any], taken: set[str]) -> tuple[dict[str, Any] | None, str]:
    """(the assertion as the suite file holds it, "") or (None, what to fix)."""
    kind = str(form.get("type") or "")
    if kind not in ASSERTION_TYPES:
        return None, f"Pick an assertion type (one of {', '.join(ASSERTION_TYPES)})."
    data: dict[str, Any] = {"type": kind}
    for field in fields_for(kind):
        text = str(form.get(field["name"]) or "").strip()
        if text:
            try:
                data[field["name"]] = _parse(field, text)
            except ValueError as exc:
                return None, str(exc)
    name = str(form.get("name") or "").strip() or default_name(kind, data.get("node", ""), data.get("port", ""), taken)
    if name in taken:
        return None, f"An assertion is already named `{name}`: give this one another name."
    if kind in NEEDS_NODE and not data.get("node"):
        return None, f"`{kind}` checks one node: give its node id (or use “assert on this port” in the inspector)."
    if kind in NEEDS_EXPECTED and "value" not in data and "column" not in data and kind != "component":
        return None, f"`{kind}` compares with an expected value: give a value or a dataset column."
    try:
        assertion = Assertion.model_validate({"name": name, **data})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"]) or "the form"
        return None, f"{where}: {error['msg']}."
    return assertion.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"name": name, "type": kind}, ""


def describe(a: dict[str, Any]) -> str:
    """One line for the assertion list: `generate.text icontains column expected_keyword`."""
    target = ".".join(str(a[k]) for k in ("node", "port") if a.get(k)) or "run"
    expected = f"column {a['column']}" if a.get("column") else (json.dumps(a["value"]) if "value" in a else "")
    extra = f" (weight {a['weight']:g})" if a.get("weight", 1) != 1 else ""
    return " ".join(p for p in (target, a["type"], expected) if p) + extra
