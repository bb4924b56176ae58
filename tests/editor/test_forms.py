"""Inspector forms from a params JSON Schema, and what users type checked field by field."""

from __future__ import annotations

import pytest

from editor import forms
from runtime import NodePolicy

from .conftest import ScaleParams


def _fields(values=None, **kw):
    return {f["name"]: f for f in forms.schema_fields(ScaleParams.model_json_schema(), values or {}, prefix="param", **kw)}


def test_widgets_follow_the_schema():
    fields = _fields(forms.effective_values(ScaleParams, {}))
    kinds = {name: f["kind"] for name, f in fields.items()}
    assert kinds == {"temperature": "number", "mode": "select", "enabled": "bool", "template": "textarea",
                     "tags": "json", "limit": "integer", "model": "model", "notes": "textarea", "extra": "json"}
    assert (fields["temperature"]["min"], fields["temperature"]["max"]) == ("0", "2")
    assert fields["temperature"]["help"] == "Sampling temperature (≥ 0, ≤ 2)"
    assert [o["value"] for o in fields["mode"]["options"]] == ["fast", "slow"]
    assert fields["limit"]["nullable"] and fields["limit"]["value"] == ""
    assert fields["tags"]["value"] == "[]" and fields["enabled"]["checked"]
    assert fields["mode"]["testid"] == "param-mode"


def test_drafts_and_errors_are_shown():
    fields = _fields({"temperature": 0.0}, drafts={"temperature": "3"}, errors={"temperature": "Too hot."})
    assert fields["temperature"]["value"] == "3" and fields["temperature"]["error"] == "Too hot."


def test_policy_form_has_a_tri_state_cache():
    fields = {f["name"]: f for f in forms.schema_fields(NodePolicy.model_json_schema(), NodePolicy().model_dump(),
                                                        prefix="policy")}
    assert fields["cache"]["kind"] == "tristate" and fields["cache"]["value"] == ""
    assert forms.parse_value(fields["cache"], "false") is False
    assert forms.parse_value(fields["cache"], "") is None
    assert fields["on_error"]["kind"] == "select" and fields["timeout_s"]["nullable"]


@pytest.mark.parametrize(("name", "raw", "value"), [
    ("temperature", "0.5", 0.5), ("temperature", "1", 1), ("limit", "", None), ("limit", "7", 7),
    ("mode", "slow", "slow"), ("enabled", False, False), ("tags", '["a"]', ["a"]), ("extra", "", None),
    ("template", "", ""), ("model", "openai/gpt-4o-mini", "openai/gpt-4o-mini"),
])
def test_parse_value(name, raw, value):
    assert forms.parse_value(_fields()[name], raw) == value


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("temperature", "", "Enter a number."), ("temperature", "abc", "Enter a number (got 'abc')."),
    ("limit", "2.5", "Enter a whole number (got '2.5')."), ("mode", "medium", "Choose one of: fast, slow."),
    ("tags", '["a", ', "Not valid JSON: Expecting value (line 1, column 7)."),
])
def test_parse_value_says_what_is_wrong(name, raw, message):
    with pytest.raises(forms.FieldError) as exc:
        forms.parse_value(_fields()[name], raw)
    assert str(exc.value) == message


def test_check_field_gives_pydantics_message_for_that_field_only():
    assert forms.check_field(ScaleParams, {}, "temperature", 5) == "Input should be less than or equal to 2."
    assert forms.check_field(ScaleParams, {"limit": 0}, "temperature", 1) is None  # another field's problem
    assert forms.check_field(ScaleParams, {}, "tags", ["a"]) is None


def test_effective_values_fill_in_defaults_even_when_something_is_invalid():
    assert forms.effective_values(ScaleParams, {"mode": "slow"})["temperature"] == 0.0
    shown = forms.effective_values(ScaleParams, {"temperature": 9})
    assert shown["temperature"] == 9 and shown["tags"] == [] and shown["mode"] == "fast"
