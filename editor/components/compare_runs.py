"""History: a box per run to pick two, `compare-runs-button`, and per node their outputs side by side with a
text diff (strings) or a JSON diff (structures); the differing nodes are outlined on the canvas."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.compare_runs import CompareRunsState as S

__all__ = ["pick_box", "compare_bar", "run_diffs"]


def pick_box(run_id: Any) -> rx.Component:
    """A checkbox cell for a History row (its click does not open the run)."""
    return rx.el.td(
        rx.el.input(type="checkbox", checked=S.selected.contains(run_id), on_change=lambda _v: S.toggle(run_id),
                    title="Pick two runs to compare", custom_attrs={"data-testid": "history-pick-" + run_id.to(str)}),
        on_click=rx.stop_propagation,
    )


def compare_bar() -> rx.Component:
    return rx.el.div(
        rx.button("Compare runs", on_click=S.compare, size="1", variant="soft", disabled=S.selected.length() != 2,
                  title="Compare the two picked runs node by node",
                  custom_attrs={"data-testid": "compare-runs-button"}),
        rx.el.span(S.selected.length().to(str), " of 2 picked", class_name="pw-muted"),
        rx.cond(S.error != "", rx.el.span(S.error, class_name="pw-field-error")),
        class_name="pw-row",
    )


def _line(line: Any) -> rx.Component:
    return rx.el.div(line["sign"].to(str), " ", line["text"].to(str),
                     class_name=rx.match(line["sign"].to(str), ("+", "pw-diff-line pw-diff-add"),
                                         ("-", "pw-diff-line pw-diff-del"), ("~", "pw-diff-line pw-diff-chg"),
                                         ("@", "pw-diff-line pw-diff-hunk"), "pw-diff-line"))


def _port(port: Any) -> rx.Component:
    return rx.el.div(
        rx.el.div(rx.el.code(port["port"].to(str)), " · ", port["kind"].to(str),
                  rx.cond(port["same"].to(bool), " · same", " · differs"), class_name="pw-muted"),
        rx.el.div(rx.el.pre(port["a"].to(str), class_name="pw-pre"), rx.el.pre(port["b"].to(str), class_name="pw-pre"),
                  class_name="pw-diff-sides"),
        rx.cond(~port["same"].to(bool), rx.el.div(rx.foreach(port["lines"].to(list[dict[str, str]]), _line),
                                                  class_name="pw-diff-lines")),
        custom_attrs={"data-testid": "run-diff-port-" + port["port"].to(str), "data-kind": port["kind"].to(str)},
    )


def _node(diff: Any) -> rx.Component:
    return rx.el.details(
        rx.el.summary(rx.el.code(diff["node"]), " ", diff["status_a"], " → ", diff["status_b"],
                      rx.cond(diff["same"], " · same outputs", " · outputs differ")),
        rx.foreach(diff["ports"], _port),
        open=~diff["same"],
        class_name=rx.cond(diff["same"], "pw-run-diff", "pw-run-diff pw-run-diff-differs"),
        custom_attrs={"data-testid": "run-diff-" + diff["node"].to(str), "data-same": diff["same"].to(str)},
        key=diff["node"],
    )


def run_diffs() -> rx.Component:
    return rx.cond(S.diffs.length() > 0, rx.el.div(
        rx.el.div(rx.el.b("Run A "), rx.el.code(S.run_a), rx.el.b(" vs run B "), rx.el.code(S.run_b), " · ",
                  S.differing.to(str), " node(s) differ (outlined on the canvas)",
                  rx.button("Close", on_click=S.close, size="1", variant="soft",
                            custom_attrs={"data-testid": "compare-runs-close"}),
                  class_name="pw-row"),
        rx.el.div(rx.el.span("A", class_name="pw-muted"), rx.el.span("B", class_name="pw-muted"),
                  class_name="pw-diff-sides"),
        rx.foreach(S.diffs, _node),
        class_name="pw-run-diffs",
        custom_attrs={"data-testid": "run-diffs", "data-differing": S.differing.to(str)},
    ))
