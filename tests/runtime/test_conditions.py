"""The condition operators of runtime/conditions.py, shared by `logic.condition` and `flow.loop`'s `until`:
one table of cases, checked through both, so the loop stops on exactly what a condition routes on."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from components_catalog.logic import ConditionInputs, ConditionParams, LogicCondition
from runtime.conditions import MISSING, describe, holds
from runtime.flow.until import Until
from runtime.flow.until import holds as until_holds

CASES = [  # operator, subject, value, holds
    ("equals", "5", 5, True), ("equals", 5, "5.0", True), ("equals", 5, 5.0, True), ("equals", "abc", "abc", True),
    ("equals", "abc", "ABC", False), ("equals", True, 1, False), ("equals", 1, True, False),  # a bool is no number
    ("equals", False, 0, False), ("equals", True, True, True), ("equals", None, None, True),
    ("equals", [1, "a"], [1, "a"], True), ("not_equals", "5", 5, False), ("not_equals", True, 1, True),
    ("contains", "hello world", "lo w", True), ("contains", "hello", "x", False), ("contains", {"a": 1}, "a", True),
    ("contains", {"a": 1}, 1, False), ("contains", [1, "a"], "1", True), ("contains", [1, 2], True, False),
    ("contains", 5, 5, False), ("not_contains", "hello", "x", True),
    ("regex", "hello", "l+o", True), ("regex", 12345, "^1[0-9]+$", True), ("regex", "abc", "^b", False),
    ("gt", 7.5, 7, True), ("gt", "8", 7, True), ("gt", "eight", 7, False), ("gte", 7, 7, True),
    ("lt", None, 7, False), ("lte", True, 7, False),
    ("is_empty", None, None, True), ("is_empty", "  ", None, True), ("is_empty", [], None, True),
    ("is_empty", {}, None, True), ("is_empty", 0, None, False), ("is_empty", "x", None, False),
    ("is_not_empty", [0], None, True), ("is_not_empty", "", None, False),
]


def _condition_holds(operator: str, subject: Any, value: Any) -> bool:
    component = LogicCondition(ConditionParams(branches=[{"name": "hit", "operator": operator, "value": value}]))

    class Ctx:
        node_id = "c"

        def record(self, *_: Any) -> None:
            pass

    outputs = asyncio.run(component.run(ConditionInputs(value=subject), Ctx()))  # type: ignore[arg-type]
    return "hit" in outputs.model_fields_set


@pytest.mark.parametrize(("operator", "subject", "value", "expected"), CASES)
def test_logic_condition_and_until_agree_on_every_operator(operator: str, subject: Any, value: Any, expected: bool):
    assert holds(operator, subject, value, matches=lambda text: __import__("re").search(value, text) is not None) \
        is expected
    assert _condition_holds(operator, subject, value) is expected
    assert until_holds(Until(output="o", operator=operator, value=value), subject) is expected  # type: ignore[arg-type]


def test_text_folds_case_only_when_asked_and_a_missing_field_is_empty():
    def never(text: str) -> bool:
        raise AssertionError("no regex here")

    assert holds("equals", "ABC", "abc", matches=never, case_sensitive=False)
    assert holds("contains", "Hello", "HELLO", matches=never, case_sensitive=False)
    assert not holds("contains", "Hello", "HELLO", matches=never)
    assert holds("is_empty", MISSING, None, matches=never)
    assert not holds("equals", MISSING, None, matches=never)
    assert holds("not_equals", MISSING, None, matches=never)  # the negations hold for a missing field


def test_conditions_are_described_the_same_way():
    assert describe("`score`", "gte", 0.5) == "`score` gte 0.5"
    assert describe("the value", "is_not_empty", None) == "the value is not empty"
    assert Until(output="answer", operator="is_empty").describe() == "`answer` is empty"
    params = ConditionParams(branches=[{"name": "high", "operator": "gt", "value": 1, "field": "score"}])
    assert params.branches[0].describe() == "`score` gt 1"


def test_a_slow_until_regex_is_stopped_with_its_message():
    until = Until(output="o", operator="regex", value="^(a|aa)+$")
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"`until` regex took longer than 1 s on this output"):
        until_holds(until, "a" * 5000 + "!")
    assert time.perf_counter() - started < 10
