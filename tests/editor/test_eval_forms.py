"""The Evaluate panel's assertion form: fields per type, validation messages, names."""

from __future__ import annotations

import pytest

from editor.eval_forms import assertion_from_form, default_type_for, describe, fields_for
from runtime.eval.suite import ASSERTION_TYPES


def names(kind: str) -> list[str]:
    return [f["name"] for f in fields_for(kind)]


def test_every_suite_assertion_type_has_a_form():
    for kind in ASSERTION_TYPES:
        assert names(kind)[-1] == "weight"
    assert names("icontains") == ["node", "port", "value", "column", "weight"]
    assert names("fired") == ["node", "weight"]
    assert names("latency_ms_lte") == ["node", "value", "column", "weight"]
    assert names("json_path") == ["node", "port", "value", "column", "path", "weight"]
    assert names("length_between") == ["node", "port", "min", "max", "weight"]
    assert "rubric" in names("llm_rubric") and "schema" in names("is_json") and "inputs" in names("component")


def test_a_form_becomes_a_suite_assertion():
    got, problem = assertion_from_form({"type": "gte", "node": "score", "port": "value", "value": "0.6",
                                        "weight": "2"}, set())
    assert problem == "" and got == {"name": "score_value_gte", "type": "gte", "node": "score", "port": "value",
                                     "value": 0.6, "weight": 2.0}
    got, _ = assertion_from_form({"type": "contains", "node": "a", "value": "plain text"}, {"a_contains"})
    assert got is not None and got["value"] == "plain text" and got["name"] == "a_contains_2"
    got, _ = assertion_from_form({"type": "is_json", "node": "a", "schema": '{"type": "object"}'}, set())
    assert got is not None and got["schema"] == {"type": "object"}


@pytest.mark.parametrize(("form", "message"), [
    ({"type": "nope"}, "Pick an assertion type"),
    ({"type": "equals", "value": "x"}, "`equals` checks one node: give its node id"),
    ({"type": "equals", "node": "a"}, "`equals` compares with an expected value: give a value or a dataset column."),
    ({"type": "gte", "node": "a", "value": "1", "weight": "heavy"}, "Weight: `heavy` is not a number."),
    ({"type": "is_json", "node": "a", "schema": "{oops"}, "JSON Schema: not valid JSON"),
    ({"type": "fired", "node": "a", "name": "taken"}, "An assertion is already named `taken`"),
    ({"type": "fired", "node": "a", "weight": "-1"}, "weight: Input should be greater than or equal to 0."),
])
def test_bad_forms_say_what_to_fix(form, message):
    got, problem = assertion_from_form(form, {"taken"})
    assert got is None and message in problem


def test_port_type_suggests_an_assertion_and_lines_describe_it():
    assert default_type_for("float") == "gte" and default_type_for("list[Document]") == "contains_id"
    assert default_type_for("str") == "icontains" and default_type_for("dict[str, Any]") == "fired"
    assert describe({"name": "c", "type": "icontains", "node": "gen", "port": "text", "column": "kw"}) == \
        "gen.text icontains column kw"
    assert describe({"name": "f", "type": "latency_ms_lte", "value": 100, "weight": 2}) == \
        "run latency_ms_lte 100 (weight 2)"
