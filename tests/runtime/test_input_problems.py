"""Input problems come back as data; each front end words its own hint from it."""

from __future__ import annotations

import pytest

from runtime import InvalidInputs, compile
from runtime.issues import InputProblem
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

PLAN = compile(make_spec({"q": ("io.input", {"name": "query"}), "n": ("io.input", {"name": "n", "type": "integer"}),
                          "out": ("io.output", {})}, [("q", "value", "out", "value")]), sample_registry())


def problems(given: dict) -> InvalidInputs:
    with pytest.raises(InvalidInputs) as error:
        PLAN.resolve_inputs(given)
    return error.value


def test_each_problem_carries_its_code_input_expected_and_got():
    exc = problems({"n": "seven", "zz": 1, "aa": 2})
    assert [(p.code, p.input, p.expected, p.got) for p in exc.items] == [
        ("missing", "query", None, None), ("invalid", "n", "integer", "'seven'"),
        ("unknown", "aa", "`query`, `n`", None), ("unknown", "zz", "`query`, `n`", None)]
    assert all(isinstance(p, InputProblem) for p in exc.items)


def test_the_text_for_python_callers_is_unchanged():
    exc = problems({"n": "seven", "zz": 1, "aa": 2})
    assert exc.problems == [
        "Input `query` is required: pass it with `--input query=...` (or give the io.input node a `default`).",
        "Input `n`: expected an integer, got str 'seven'.",
        "Unknown inputs `aa`, `zz`; this pipeline's inputs: `query`, `n`."]
    assert str(exc) == "; ".join(exc.problems) and [str(p) for p in exc.items[:2]] == exc.problems[:2]


def test_a_front_end_words_how_to_give_a_missing_input():
    exc = problems({"n": 1})
    assert exc.texts(lambda name: f"add a `{name}` column.") == ["Input `query` is required: add a `query` column."]
