"""The Evaluate tab's plots, with Reflex's built-in recharts components: pass rate per assertion (the baseline's
beside it), the latency distribution and the cost per row."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.eval_compare import EvalCompareState
from ..state.evaluate import EvalState

__all__ = ["eval_charts"]

NOW_COLOR = "#2563eb"
BASELINE_COLOR = "#94a3b8"


def _chart(title: str, testid: str, chart: rx.Component, count: Any) -> rx.Component:
    return rx.el.figure(
        rx.el.figcaption(title, class_name="pw-eval-chart-title"),
        rx.el.div(chart, class_name="pw-eval-chart-box"),
        class_name="pw-eval-chart",
        custom_attrs={"data-testid": testid, "data-points": count.to(str)},
    )


def _pass_rate() -> rx.Component:
    with_baseline = EvalCompareState.compared_for == EvalState.experiment_id
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="assertion"),
        rx.recharts.y_axis(domain=[0, 100], unit="%"),
        rx.recharts.tooltip(),
        rx.recharts.legend(),
        rx.recharts.bar(data_key="now", name="this experiment", fill=NOW_COLOR, is_animation_active=False),
        rx.cond(with_baseline & (EvalCompareState.baseline_id != ""),
                rx.recharts.bar(data_key="baseline", name="baseline", fill=BASELINE_COLOR, is_animation_active=False)),
        data=EvalState.pass_bars, height=200,
    )


def _latency() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="range"),
        rx.recharts.y_axis(allow_decimals=False),
        rx.recharts.tooltip(),
        rx.recharts.bar(data_key="runs", name="runs", fill="#0d9488", is_animation_active=False),
        data=EvalState.latency, height=200,
    )


def _cost() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="row"),
        rx.recharts.y_axis(unit="$"),
        rx.recharts.tooltip(),
        rx.recharts.bar(data_key="cost", name="cost (USD)", fill="#d97706", is_animation_active=False),
        data=EvalState.costs, height=200,
    )


def eval_charts() -> rx.Component:
    return rx.el.div(
        _chart("Pass rate per assertion", "eval-chart-pass-rate", _pass_rate(), EvalState.pass_bars.length()),
        _chart("Latency distribution (runs)", "eval-chart-latency", _latency(), EvalState.latency.length()),
        _chart("Cost per row", "eval-chart-cost", _cost(), EvalState.costs.length()),
        class_name="pw-eval-charts",
        custom_attrs={"data-testid": "eval-charts"},
    )
