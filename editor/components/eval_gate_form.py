"""The Evaluate tab's Gate section (the suite's `gate:` rules, and the shown experiment's verdict under them) and
its engine choice (local, or Ray with an optional cluster address)."""

from __future__ import annotations

import reflex as rx

from ..eval_gate import ENGINES, PassRateField
from ..state.evaluate import EvalState

__all__ = ["gate_section", "engine_choice", "gate_verdict"]

S = EvalState


def _field(label: str, name: str, value: rx.Var[str], unit: str, placeholder: str, testid: str,
           title: str) -> rx.Component:
    return rx.el.label(
        rx.el.span(label, class_name="pw-run-name"),
        rx.el.input(name=name, default_value=value, placeholder=placeholder, class_name="pw-input", title=title,
                    key=name + ":" + S.gate_key.to(str), input_mode="decimal", custom_attrs={"data-testid": testid}),
        rx.el.span(unit, class_name="pw-muted"),
        class_name="pw-run-field",
    )


def _pass_rate(rate: rx.Var[PassRateField]) -> rx.Component:
    return _field(rate["name"], rate["field"], rate["value"], "%", "no rule", "eval-gate-rate-" + rate["name"],
                  "Least share of rows where this assertion passes (0–100%); empty: no rule")


def gate_section() -> rx.Component:
    return rx.el.section(
        rx.el.h4("Gate", class_name="pw-section"),
        rx.el.p("When the experiment passes, and when Publish accepts a version. Empty: no rule.", class_name="pw-muted"),
        rx.el.form(
            rx.el.div(
                rx.foreach(S.gate_rates, _pass_rate),
                _field("Most regressed rows", "max_regressions", S.gate_max_regressions, "rows", "no limit",
                       "eval-gate-max-regressions",
                       "Rows passing in the baseline (the published version's experiment) that may fail now"),
                _field("Most latency p95 increase", "max_latency_p95_increase", S.gate_max_latency, "%", "no limit",
                       "eval-gate-max-latency", "Relative increase of latency p95 against the baseline, in %"),
                class_name="pw-eval-form-fields",
            ),
            rx.cond(S.gate_unknown.length() > 0, rx.el.p(
                "The suite file also names ", rx.foreach(S.gate_unknown, lambda n: rx.el.code(n, " ")),
                "in `min_pass_rate`, which are not assertions: saving drops them.", class_name="pw-field-error",
                custom_attrs={"data-testid": "eval-gate-unknown"})),
            rx.cond(S.gate_errors.length() > 0, rx.el.ul(
                rx.foreach(S.gate_errors, lambda e: rx.el.li(e)), class_name="pw-field-error",
                custom_attrs={"data-testid": "eval-gate-error", "role": "alert"})),
            rx.button("Save gate", type="submit", size="1", variant="soft",
                      custom_attrs={"data-testid": "eval-gate-save"}),
            on_submit=S.save_gate, reset_on_submit=False, class_name="pw-eval-form",
            custom_attrs={"data-testid": "eval-gate-form", "data-saved": S.gate_saved.to(str)},
        ),
        class_name="pw-eval-col",
    )


def engine_choice() -> rx.Component:
    return rx.el.div(
        rx.el.label(
            "Engine ",
            rx.el.select(*[rx.el.option(e, value=e) for e in ENGINES], value=S.engine, on_change=S.set_engine,
                         disabled=S.running, class_name="pw-input", custom_attrs={"data-testid": "eval-engine"},
                         title="local: in the editor's process; ray: Ray tasks, like `patchwire eval --engine ray`"),
            class_name="pw-row pw-nowrap"),
        rx.cond(S.engine == "ray", rx.el.label(
            "Ray address ",
            rx.el.input(default_value=S.ray_address, placeholder="empty: a local Ray for the run", class_name="pw-input",
                        key="ray-address:" + S.loaded_for, on_blur=S.set_ray_address, disabled=S.running,
                        custom_attrs={"data-testid": "eval-ray-address"},
                        title="HOST:PORT of a running cluster's head (`ray start --head`)"),
            class_name="pw-row pw-nowrap")),
        rx.cond(S.engine_error != "", rx.el.div(S.engine_error, class_name="pw-field-error",
                                                 custom_attrs={"data-testid": "eval-engine-error", "role": "alert"})),
        custom_attrs={"data-testid": "eval-engine-choice", "data-engine": S.engine, "data-address": S.ray_address},
    )


def gate_verdict() -> rx.Component:
    """Beside the score: the shown experiment under the gate as it is set now."""
    return rx.cond(S.verdict != "", rx.el.div(
        rx.el.b("Gate ", S.verdict),
        rx.cond(S.verdict_reasons.length() > 0,
                rx.el.ul(rx.foreach(S.verdict_reasons, lambda r: rx.el.li(r)),
                         custom_attrs={"data-testid": "eval-gate-reasons"})),
        class_name=rx.cond(S.verdict == "passed", "pw-eval-ok", "pw-run-problems"),
        custom_attrs={"data-testid": "eval-gate-verdict", "data-verdict": S.verdict, "role": "status"}))
