"""The Evaluate panel's Gate and Engine sections: the suite's `gate:` as form text and back, the messages for bad
input, a removed assertion's rule going with it, and the saved suite file that `patchwire eval` reads."""

from __future__ import annotations

import pytest

from editor import eval_store
from editor.eval_gate import (
    drop_assertion,
    engine_form,
    engine_from_form,
    gate_form,
    gate_from_form,
    gate_verdict,
    parse_gate,
)
from runtime.eval.suite import Gate, load_suite

NAMES = ["answered", "grounded"]


def test_a_suites_gate_is_shown_as_percentages_and_empty_means_no_rule():
    shown = gate_form({"min_pass_rate": {"grounded": 0.8, "gone": 0.5}, "max_regressions": 2,
                       "max_latency_p95_increase": 0.25}, NAMES)
    assert shown["pass_rates"] == [{"name": "answered", "field": "min_pass_rate.answered", "value": ""},
                                   {"name": "grounded", "field": "min_pass_rate.grounded", "value": "80"}]
    assert shown["max_regressions"] == "2" and shown["max_latency_p95_increase"] == "25"
    assert shown["unknown"] == ["gone"] and shown["problems"] == []
    assert gate_form(None, [])["max_regressions"] == "0"  # no `gate:` in a suite means max_regressions: 0
    assert gate_form({"max_regressions": None}, [])["max_regressions"] == ""
    assert gate_form({"min_pass_rate": {"a": 0.07}}, ["a"])["pass_rates"][0]["value"] == "7"


def test_the_form_becomes_the_suites_gate_and_keeps_the_rules_it_does_not_edit():
    form = {"min_pass_rate.answered": "100", "min_pass_rate.grounded": " 80% ", "max_regressions": "0",
            "max_latency_p95_increase": "25"}
    gate, problems = gate_from_form(form, NAMES, {"min_score": 0.5, "max_regressions": 3})
    assert problems == []
    assert gate == {"min_score": 0.5, "min_pass_rate": {"answered": 1.0, "grounded": 0.8}, "max_regressions": 0,
                    "max_latency_p95_increase": 0.25}
    gate, _ = gate_from_form({"min_pass_rate.answered": "", "max_regressions": "", "max_latency_p95_increase": ""},
                             NAMES)
    assert gate == {"min_pass_rate": {}, "max_regressions": None, "max_latency_p95_increase": None}
    assert Gate.model_validate(gate).max_regressions is None  # none is kept as none, not the default 0


@pytest.mark.parametrize(("form", "message"), [
    ({"min_pass_rate.answered": "-5"}, "Least pass rate of `answered`: -5 is outside 0–100%"),
    ({"min_pass_rate.answered": "120%"}, "Least pass rate of `answered`: 120% is outside 0–100%"),
    ({"min_pass_rate.answered": "most"}, "Least pass rate of `answered`: `most` is not a number"),
    ({"min_pass_rate.gone": "50"}, "Least pass rate of `gone`: there is no assertion `gone` any more"),
    ({"max_regressions": "-1"}, "Most regressed rows: `-1` is not a whole number of rows 0 or more"),
    ({"max_regressions": "1.5"}, "Most regressed rows: `1.5` is not a whole number of rows 0 or more"),
    ({"max_regressions": "some"}, "Most regressed rows: `some` is not a number"),
    ({"max_latency_p95_increase": "-10"}, "Most latency p95 increase: -10% is negative"),
    ({"max_latency_p95_increase": "nan"}, "Most latency p95 increase: `nan` is not a number"),
])
def test_bad_gate_input_says_which_field_and_how_to_fix_it(form, message):
    gate, problems = gate_from_form(form, NAMES)
    assert gate is None and len(problems) == 1 and message in problems[0]


def test_every_bad_field_is_named_at_once():
    gate, problems = gate_from_form({"min_pass_rate.answered": "101", "max_regressions": "-1",
                                     "max_latency_p95_increase": "x"}, NAMES)
    assert gate is None and [p.split(":")[0] for p in problems] == [
        "Least pass rate of `answered`", "Most regressed rows", "Most latency p95 increase"]


def test_removing_an_assertion_removes_its_least_pass_rate():
    gate = {"min_pass_rate": {"answered": 1.0, "grounded": 0.8}, "max_regressions": None}
    assert drop_assertion(gate, "grounded") == {"min_pass_rate": {"answered": 1.0}, "max_regressions": None}
    assert drop_assertion(None, "x") == {"max_regressions": 0}
    assert gate["min_pass_rate"] == {"answered": 1.0, "grounded": 0.8}  # not changed in place


def test_the_verdict_follows_the_gate_as_set_now():
    summary = {"score": 0.5, "assertions": {"answered": {"pass_rate": 0.6667, "passed": 2, "failed": 1}},
               "latency_ms": {"p50": 1, "p95": 2}, "cost": 0.0}
    strict = gate_verdict({"min_pass_rate": {"answered": 1.0}, "max_regressions": None}, summary)
    assert strict == {"passed": False, "reasons": ["`answered` pass rate 66.7% is below the required 100.0%"]}
    loose = gate_verdict({"min_pass_rate": {"answered": 0.6}}, summary)
    assert loose["passed"] is True
    assert loose["reasons"] == ["no baseline: regression and latency rules not checked"]
    broken = gate_verdict({"max_regressions": -3}, summary)
    assert broken["passed"] is False and "gate.max_regressions" in broken["reasons"][0]


def test_a_hand_edited_gate_that_does_not_validate_is_explained():
    rules, problems = parse_gate({"max_regressions": "many", "oops": 1})
    assert rules is None and len(problems) == 2
    shown = gate_form({"max_regressions": "many"}, ["a"])
    assert shown["max_regressions"] == "" and "The suite file's gate.max_regressions" in shown["problems"][0]


def test_engine_choice_round_trips_and_bad_addresses_are_refused():
    assert engine_form({}) == ("local", "")
    assert engine_form({"engine": "ray", "ray_address": "127.0.0.1:6379"}) == ("ray", "127.0.0.1:6379")
    assert engine_from_form("ray", " 127.0.0.1:6379 ") == ({"engine": "ray", "ray_address": "127.0.0.1:6379"}, "")
    assert engine_from_form("ray", "") == ({"engine": "ray", "ray_address": None}, "")
    assert engine_from_form("local", "") == ({"engine": "local", "ray_address": None}, "")
    assert engine_from_form("local", "1.2.3.4:1")[1].startswith("A Ray address needs the `ray` engine")
    assert engine_from_form("ray", "my cluster")[1].startswith("Ray address `my cluster`: give HOST:PORT")
    assert engine_from_form("spark", "")[1] == "Engine `spark` is not one of local, ray."


def test_the_saved_gate_and_engine_are_what_patchwire_eval_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    draft = eval_store.load_draft("p1", "pipe")
    draft["dataset"] = str(tmp_path / "d.jsonl")
    draft["assertions"] = [{"name": n, "type": "fired", "node": "out"} for n in NAMES]
    gate, _ = gate_from_form({"min_pass_rate.grounded": "80", "max_regressions": "",
                              "max_latency_p95_increase": "25"}, NAMES, draft["gate"])
    engine, _ = engine_from_form("ray", "127.0.0.1:6379")
    eval_store.save_draft("p1", {**draft, "gate": gate, **(engine or {})})
    suite, _ = load_suite(eval_store.suite_path("p1"))
    assert suite.gate == Gate(min_pass_rate={"grounded": 0.8}, max_regressions=None, max_latency_p95_increase=0.25)
    assert (suite.engine, suite.ray_address) == ("ray", "127.0.0.1:6379")
    reloaded = eval_store.load_draft("p1", "pipe")
    shown = gate_form(reloaded["gate"], NAMES)
    assert [r["value"] for r in shown["pass_rates"]] == ["", "80"] and shown["max_regressions"] == ""
    assert shown["max_latency_p95_increase"] == "25"


def test_patchwire_eval_of_the_panels_suite_holds_its_gate(tmp_path, monkeypatch, fresh_database, capsys):
    import json

    from runtime.cli import main
    from runtime.store.pipelines import create_pipeline
    from tests.runtime.test_eval_in_process import echo_spec

    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    pipeline = create_pipeline(echo_spec("> "), name="echo")
    rows = [{"id": "r1", "question": "a", "want": "> a"}, {"id": "r2", "question": "b", "want": "wrong"}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    draft = eval_store.load_draft(pipeline.id, "echo") | {"dataset": str(tmp_path / "rows.jsonl"),
                                                          "inputs": {"query": "question"}}
    draft["assertions"] = [{"name": "echoed", "node": "echo", "type": "equals", "column": "want"}]
    for percent, exit_code in (("100", 1), ("50", 0)):
        gate, _ = gate_from_form({"min_pass_rate.echoed": percent}, ["echoed"], draft["gate"])
        eval_store.save_draft(pipeline.id, {**draft, "gate": gate})
        args = ["eval", str(eval_store.suite_path(pipeline.id)), "--quiet", "--plugin", "runtime.testing.components"]
        assert main(args) == exit_code
        if exit_code:
            assert "`echoed` pass rate 50.0% is below the required 100.0%" in capsys.readouterr().out
