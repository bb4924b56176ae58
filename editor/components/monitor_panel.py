"""The Monitor tab (the open pipeline's runs over a window: charts and a node table), the canvas's heat-map
toggle, and the network lines of the shown run (inspector, run summary). State: `editor.state.monitor`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..monitor_views import NodeRow
from ..state.monitor import WINDOW_OPTIONS, MonitorState, NetworkState
from ..state.node_run import NodeRunState

__all__ = ["monitor_tab", "heat_toggle", "node_network_line", "run_network_line"]

_CHART_HEIGHT = 150


def _stat(label: str, value: Any, testid: str) -> rx.Component:
    return rx.el.div(rx.el.span(label, class_name="pw-stat-label"), rx.el.span(value, custom_attrs={"data-testid": testid}),
                     class_name="pw-stat")


def _controls() -> rx.Component:
    return rx.el.div(
        rx.el.label("Window ", rx.el.select(
            *[rx.el.option(label, value=key) for key, label in WINDOW_OPTIONS],
            value=MonitorState.window, on_change=MonitorState.set_window, class_name="pw-input pw-monitor-select",
            custom_attrs={"data-testid": "monitor-window"})),
        rx.el.label("Version ", rx.el.select(
            rx.el.option("All versions", value=""),
            rx.foreach(MonitorState.versions, lambda v: rx.el.option(v["label"], value=v["value"])),
            value=MonitorState.version, on_change=MonitorState.set_version, class_name="pw-input pw-monitor-select",
            title="A version is the spec a run ran (its short hash): an edit of the graph or a param is a new one",
            custom_attrs={"data-testid": "monitor-version"})),
        rx.button("Refresh", on_click=MonitorState.refresh, size="1", variant="soft",
                  custom_attrs={"data-testid": "monitor-refresh"}),
        class_name="pw-row pw-monitor-controls",
    )


def _totals() -> rx.Component:
    t = MonitorState.totals
    return rx.el.div(
        _stat("Runs", t["runs"].to(str), "monitor-runs"),
        _stat("Error rate", t["error_rate"], "monitor-error-rate"),
        _stat("p50 latency", t["p50"], "monitor-p50"),
        _stat("p95 latency", t["p95"], "monitor-p95"),
        _stat("Tokens", t["tokens"].to(str), "monitor-tokens"),
        _stat("Cost", t["cost"], "monitor-cost"),
        class_name="pw-stats",
    )


def _axes() -> list[rx.Component]:
    return [rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="#e2e8f0"),
            rx.recharts.x_axis(data_key="t", min_tick_gap=24, tick={"fontSize": 10}),
            rx.recharts.y_axis(width=64, tick={"fontSize": 10}),
            rx.recharts.graphing_tooltip(), rx.recharts.legend(icon_size=8)]


def _chart(title: str, name: str, chart: rx.Component) -> rx.Component:
    return rx.el.figure(rx.el.figcaption(title, class_name="pw-stat-label"), chart, class_name="pw-monitor-chart",
                        custom_attrs={"data-testid": f"monitor-chart-{name}"})


def _line(key: str, name: str, color: str) -> rx.Component:
    return rx.recharts.line(data_key=key, name=name, stroke=color, dot=True, is_animation_active=False,
                            connect_nulls=False, type_="linear")  # dots: a bucket between two empty ones shows


def _bar(key: str, name: str, color: str) -> rx.Component:
    return rx.recharts.bar(data_key=key, name=name, fill=color, is_animation_active=False)


def _charts() -> rx.Component:
    data = MonitorState.series
    return rx.el.div(
        _chart("Runs and failures", "runs", rx.recharts.bar_chart(
            _bar("runs", "runs", "#6366f1"), _bar("failed", "failed", "#dc2626"), *_axes(), data=data,
            height=_CHART_HEIGHT)),
        _chart("Latency (ms)", "latency", rx.recharts.line_chart(
            _line("p50", "p50", "#0891b2"), _line("p95", "p95", "#d97706"), *_axes(), data=data,
            height=_CHART_HEIGHT)),
        _chart("Tokens", "tokens", rx.recharts.bar_chart(
            _bar("tokens", "tokens", "#16a34a"), *_axes(), data=data, height=_CHART_HEIGHT)),
        _chart("Cost (USD)", "cost", rx.recharts.bar_chart(
            _bar("cost", "cost", "#9333ea"), *_axes(), data=data, height=_CHART_HEIGHT)),
        class_name="pw-monitor-charts",
    )


def _node_row(row: rx.Var[NodeRow]) -> rx.Component:
    node_id = row["node_id"]
    return rx.el.tr(
        rx.el.td(rx.el.code(node_id)), rx.el.td(row["runs"].to(str)), rx.el.td(row["error_rate"]), rx.el.td(row["p50"]),
        rx.el.td(row["p95"]), rx.el.td(row["tokens"].to(str)), rx.el.td(row["cost"]), rx.el.td(row["cost_per_run"]),
        custom_attrs={"data-testid": "monitor-node-" + node_id, "data-node-id": node_id},
    )


def _node_table() -> rx.Component:
    heads = ("Node", "Runs", "Errors", "p50", "p95", "Tokens", "Cost", "Cost / run")
    return rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in heads])),
        rx.el.tbody(rx.foreach(MonitorState.node_rows, _node_row)),
        class_name="pw-table pw-monitor-nodes",
        custom_attrs={"data-testid": "monitor-nodes"},
    )


def monitor_tab() -> rx.Component:
    return rx.el.div(
        _controls(),
        rx.cond(
            MonitorState.totals["runs"] > 0,
            rx.el.div(_totals(), _charts(), _node_table()),
            rx.el.p("No finished runs of this pipeline in this window: run it, or choose a longer window.",
                    class_name="pw-muted", custom_attrs={"data-testid": "monitor-empty"}),
        ),
        class_name="pw-tab-body",
        custom_attrs={"data-testid": "monitor-tab", "data-loaded-for": MonitorState.loaded_for,
                      "data-runs": MonitorState.totals["runs"].to(str)},
    )


def heat_toggle() -> rx.Component:
    """In the run bar (never over the canvas, where it would hide nodes): colour each node by its p95 latency or cost per run in the Monitor tab's window."""
    return rx.el.div(
        rx.el.button("Heat map", type="button", on_click=MonitorState.toggle_heat,
                     class_name=rx.cond(MonitorState.heat_on, "pw-heat-toggle pw-heat-on", "pw-heat-toggle"),
                     title="Colour each node by where time or money goes, over the runs in the Monitor tab's window",
                     custom_attrs={"data-testid": "heatmap-toggle", "aria-pressed": MonitorState.heat_on.to(str)}),
        rx.cond(MonitorState.heat_on, rx.el.select(
            rx.el.option("p95 latency", value="latency"), rx.el.option("cost per run", value="cost"),
            value=MonitorState.heat_metric, on_change=MonitorState.set_heat_metric, class_name="pw-input",
            custom_attrs={"data-testid": "heatmap-metric"})),
        class_name="pw-heat-controls",
    )


def node_network_line() -> rx.Component:
    """Inspector: the outbound connections the selected node made in the shown run."""
    node_id = NodeRunState.node_id
    return rx.cond(
        (NetworkState.run_id == NodeRunState.run_id) & NetworkState.nodes.contains(node_id),
        rx.el.div(NetworkState.nodes[node_id], class_name="pw-network",
                  custom_attrs={"data-testid": "node-network-" + node_id}),
    )


def run_network_line() -> rx.Component:
    """Run summary: every outbound call of the run, and whether nodes made them all."""
    return rx.cond(NetworkState.summary != "", rx.el.div(NetworkState.summary, class_name="pw-network",
                                                         custom_attrs={"data-testid": "run-egress"}))
