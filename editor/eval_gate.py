"""The Evaluate panel's Gate and Engine sections: a suite's `gate:` and `engine:` shown as form text, and the
form's text turned back into them, with a message naming each field that does not validate. No Reflex here.

Pass rates and the latency increase are shown as percentages (`80` for 0.8); an empty field is "no rule"
(saved as `null` for `max_regressions`, whose default in a suite file is 0). Rules the panel does not edit
(`min_score`, `max_cost_increase`) are kept as the suite file holds them.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

from pydantic import ValidationError

from runtime.eval.gate import evaluate_gate
from runtime.eval.suite import Gate

__all__ = ["PassRateField", "GateForm", "gate_form", "gate_from_form", "parse_gate", "drop_assertion", "gate_verdict",
           "engine_form", "engine_from_form", "PASS_RATE_PREFIX", "ENGINES"]

PASS_RATE_PREFIX = "min_pass_rate."  # the form field of an assertion's least pass rate: `min_pass_rate.<name>`
ENGINES = ("local", "ray")


class PassRateField(TypedDict):
    name: str  # the assertion
    field: str  # the form field: min_pass_rate.<name>
    value: str  # percent, "" for no rule


class GateForm(TypedDict):
    pass_rates: list[PassRateField]
    max_regressions: str
    max_latency_p95_increase: str  # percent
    unknown: list[str]  # min_pass_rate entries naming no assertion (a hand-edited suite file)
    problems: list[str]  # why the suite file's `gate:` does not validate (the fields then start empty)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100, 4):g}"


def gate_form(gate: dict[str, Any] | None, assertion_names: list[str]) -> GateForm:
    """The form's text for a suite's `gate:` (as the suite file holds it; no `gate:` is `max_regressions: 0`)."""
    rules, problems = parse_gate(gate)
    rules = rules or Gate(max_regressions=None)
    rates = rules.min_pass_rate
    return GateForm(
        pass_rates=[PassRateField(name=n, field=PASS_RATE_PREFIX + n, value=_percent(rates.get(n)))
                    for n in assertion_names],
        max_regressions="" if rules.max_regressions is None else str(rules.max_regressions),
        max_latency_p95_increase=_percent(rules.max_latency_p95_increase),
        unknown=sorted(set(rates) - set(assertion_names)), problems=problems)


def parse_gate(gate: dict[str, Any] | None) -> tuple[Gate | None, list[str]]:
    """The suite file's `gate:` as a `Gate`, or None and what is wrong with it (a hand-edited file)."""
    try:
        return Gate.model_validate(gate or {}), []
    except ValidationError as exc:
        return None, [f"The suite file's gate.{'.'.join(map(str, e['loc']))}: {e['msg']}; set the rules here and "
                      "save them." for e in exc.errors(include_url=False)]


def _number(text: str) -> float:
    value = float(text.strip().removesuffix("%").strip())
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _pass_rate(name: str, text: str) -> tuple[float | None, str]:
    label = f"Least pass rate of `{name}`"
    try:
        value = _number(text)
    except ValueError:
        return None, f"{label}: `{text}` is not a number; give a percentage from 0 to 100, or leave it empty."
    if not 0 <= value <= 100:
        return None, f"{label}: {text.strip()} is outside 0–100%; give a percentage from 0 to 100, or leave it empty."
    return round(value / 100, 6), ""


def _max_regressions(text: str) -> tuple[int | None, str]:
    label = "Most regressed rows"
    try:
        value = _number(text)
    except ValueError:
        return None, f"{label}: `{text}` is not a number; give a whole number of rows (0 or more), or leave it empty."
    if value < 0 or value != int(value):
        return None, f"{label}: `{text.strip()}` is not a whole number of rows 0 or more; give e.g. 0, 1 or 2, " \
                     "or leave it empty for no limit."
    return int(value), ""


def _latency_increase(text: str) -> tuple[float | None, str]:
    label = "Most latency p95 increase"
    try:
        value = _number(text)
    except ValueError:
        return None, f"{label}: `{text}` is not a number; give a percentage (25 for +25% against the baseline), " \
                     "or leave it empty."
    if value < 0:
        return None, f"{label}: {text.strip()}% is negative; give 0 or more (25 for +25% against the baseline), " \
                     "or leave it empty."
    return round(value / 100, 6), ""


def gate_from_form(form: dict[str, Any], assertion_names: list[str],
                   current: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """(the suite's new `gate:`, []) or (None, one message per field to fix). `current`: the gate now saved, whose
    rules the panel does not edit are kept."""
    problems: list[str] = []
    rates: dict[str, float] = {}
    for key, raw in form.items():
        if not key.startswith(PASS_RATE_PREFIX) or not str(raw or "").strip():
            continue
        name = key.removeprefix(PASS_RATE_PREFIX)
        if name not in assertion_names:
            problems.append(f"Least pass rate of `{name}`: there is no assertion `{name}` any more (it was removed "
                            "or renamed); clear that field, or add the assertion again.")
            continue
        rate, problem = _pass_rate(name, str(raw))
        problems += [problem] if problem else []
        if rate is not None:
            rates[name] = rate
    regressions_text = str(form.get("max_regressions") or "").strip()
    regressions, problem = _max_regressions(regressions_text) if regressions_text else (None, "")
    problems += [problem] if problem else []
    latency_text = str(form.get("max_latency_p95_increase") or "").strip()
    latency, problem = _latency_increase(latency_text) if latency_text else (None, "")
    problems += [problem] if problem else []
    if problems:
        return None, problems
    kept = {k: v for k, v in (current or {}).items() if k in ("min_score", "max_cost_increase")}
    gate = {**kept, "min_pass_rate": {n: rates[n] for n in assertion_names if n in rates},
            "max_regressions": regressions, "max_latency_p95_increase": latency}
    rules, problems = parse_gate(gate)  # a rule kept from the file may not validate
    return (gate, []) if rules is not None else (None, problems)


def drop_assertion(gate: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The gate without the least pass rate of a removed assertion."""
    out = dict(gate or {"max_regressions": 0})
    rates = {k: v for k, v in (out.get("min_pass_rate") or {}).items() if k != name}
    if rates or "min_pass_rate" in out:
        out["min_pass_rate"] = rates
    return out


def gate_verdict(gate: dict[str, Any] | None, summary: dict[str, Any]) -> dict[str, Any]:
    """`{"passed", "reasons"}` of an experiment's summary under the gate as it is set now (without a baseline:
    the regression and latency rules are checked when publishing, against the published version's experiment)."""
    rules, problems = parse_gate(gate)
    return evaluate_gate(rules, summary, None) if rules is not None else {"passed": False, "reasons": problems}


def engine_form(suite: dict[str, Any]) -> tuple[str, str]:
    engine = str(suite.get("engine") or "local")
    return (engine if engine in ENGINES else "local"), str(suite.get("ray_address") or "")


def engine_from_form(engine: str, address: str) -> tuple[dict[str, Any] | None, str]:
    """({"engine", "ray_address"}, "") or (None, what to fix)."""
    if engine not in ENGINES:
        return None, f"Engine `{engine}` is not one of {', '.join(ENGINES)}."
    address = address.strip()
    if address and engine != "ray":
        return None, "A Ray address needs the `ray` engine: pick “ray”, or clear the address."
    if address and (any(c.isspace() for c in address) or ":" not in address.removeprefix("ray://")):
        return None, f"Ray address `{address}`: give HOST:PORT of the cluster's head (e.g. 127.0.0.1:6379), or " \
                     "leave it empty for a local Ray started for the run."
    return {"engine": engine, "ray_address": address or None}, ""
