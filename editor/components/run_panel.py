"""The run bar under the canvas (one field per input, Run, Stop, the run's status) and the bottom tabs
(issues, run summary, timeline, history)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..state.editor import EditorState
from ..state.history import HistoryState
from ..state.run import RunState
from ..state.run_summary import RunSummaryState
from .issues_panel import issues_panel
from .json_view import json_tree

__all__ = ["run_bar", "bottom_panel", "viewing_banner", "STATUS_TEXT"]

STATUS_TEXT = (("idle", "Not run yet"), ("running", "Running…"), ("succeeded", "Succeeded"), ("failed", "Failed"),
               ("cancelled", "Stopped"), ("interrupted", "Interrupted (the server stopped)"))


def _field(field: Any) -> rx.Component:
    name = field["name"].to(str)
    common = {"name": "in:" + name, "id": "run-input-" + name, "default_value": RunState.values[name].to(str),
              "custom_attrs": {"data-testid": "run-input-" + name}, "key": name + ":" + RunState.form_key.to(str),
              "title": field["description"].to(str)}
    control = rx.match(
        field["kind"].to(str),
        ("number", rx.el.input(type="number", step="any", class_name="pw-input pw-run-num",
                               placeholder=field["placeholder"].to(str), **common)),
        ("integer", rx.el.input(type="number", step="1", class_name="pw-input pw-run-num",
                                placeholder=field["placeholder"].to(str), **common)),
        ("boolean", rx.el.select(rx.el.option(rx.cond(field["required"].to(bool), "false", "default"), value=""),
                                 rx.el.option("true", value="true"), rx.el.option("false", value="false"),
                                 class_name="pw-input pw-run-num", **common)),
        ("json", rx.el.textarea(rows=1, class_name="pw-input pw-run-text pw-mono",
                                placeholder=rx.cond(field["placeholder"].to(str) != "", field["placeholder"].to(str),
                                                    "JSON"), **common)),
        rx.el.textarea(rows=1, class_name="pw-input pw-run-text",
                       placeholder=rx.cond(field["placeholder"].to(str) != "", field["placeholder"].to(str),
                                           field["description"].to(str)), **common),
    )
    return rx.el.label(
        rx.el.span(name, rx.cond(field["required"].to(bool), rx.el.span("*", class_name="pw-req")),
                   class_name="pw-run-name"),
        control,
        class_name="pw-run-field",
    )


def run_status() -> rx.Component:
    summary = RunSummaryState.summary
    return rx.el.span(
        rx.match(RunState.status, *STATUS_TEXT, RunState.status),
        rx.cond((RunState.status != "running") & (summary["latency"].to(str) != ""),
                rx.el.span(" in ", summary["latency"].to(str))),
        class_name="pw-run-status pw-run-status-" + RunState.status,
        custom_attrs={"data-testid": "run-status", "data-status": RunState.status, "data-run-id": RunState.run_id,
                      "role": "status"},
    )


def run_bar() -> rx.Component:
    running = RunState.status == "running"
    return rx.el.form(
        rx.el.div(
            rx.cond(RunState.fields.length() > 0, rx.foreach(RunState.fields, _field),
                    rx.el.span("This pipeline has no inputs (add an Input node to ask for one).",
                               class_name="pw-muted")),
            class_name="pw-run-fields",
        ),
        rx.el.div(
            rx.button("Run", type="submit", size="1", disabled=running | (EditorState.viewing_run != ""),
                      title="Run the pipeline with these inputs (Ctrl+Enter)", custom_attrs={"data-testid": "run-button"}),
            rx.button("Stop", type="button", size="1", color_scheme="red", variant="soft", disabled=~running,
                      on_click=RunState.stop, title="Cancel the run", custom_attrs={"data-testid": "stop-button"}),
            run_status(),
            class_name="pw-row pw-nowrap pw-run-actions",
        ),
        on_submit=RunState.run,
        reset_on_submit=False,
        class_name="pw-run-bar",
        custom_attrs={"data-testid": "run-form"},
    )


def viewing_banner() -> rx.Component:
    return rx.cond(
        EditorState.viewing_run != "",
        rx.el.div(
            rx.el.span("Viewing an old run, exactly as it ran (read-only): ", rx.el.b(EditorState.viewing_label)),
            rx.button("Back to editing", on_click=HistoryState.back_to_editing, size="1",
                      custom_attrs={"data-testid": "back-to-editing"}),
            class_name="pw-viewing",
            custom_attrs={"data-testid": "viewing-banner", "data-run-id": EditorState.viewing_run},
        ),
    )


def _tab(label: Any, tab: str) -> rx.Component:
    return rx.el.button(label, type="button", on_click=RunState.set_tab(tab),
                        class_name=rx.cond(RunState.tab == tab, "pw-tab pw-tab-on", "pw-tab"),
                        custom_attrs={"data-testid": f"tab-{tab}", "aria-selected": RunState.tab == tab, "role": "tab"})


def _problems() -> rx.Component:
    return rx.cond(
        RunState.problems.length() > 0,
        rx.el.div(
            rx.el.b("Nothing ran. Fix this first:"),
            rx.el.ul(rx.foreach(RunState.problems, lambda p: rx.el.li(p))),
            class_name="pw-run-problems",
            custom_attrs={"data-testid": "run-problems", "role": "alert"},
        ),
    )


def _stat(label: str, value: Any, testid: str) -> rx.Component:
    return rx.el.div(rx.el.span(label, class_name="pw-stat-label"), rx.el.span(value, custom_attrs={"data-testid": testid}),
                     class_name="pw-stat")


def _summary() -> rx.Component:
    s = RunSummaryState.summary
    return rx.el.div(
        rx.el.div(
            _stat("Status", s["status"].to(str), "summary-status"),
            _stat("Total latency", s["latency"].to(str), "summary-latency"),
            _stat("Node time (sum)", s["node_sum"].to(str), "summary-node-sum"),
            _stat("Tokens", s["tokens"].to(str), "summary-tokens"),
            _stat("Cost", s["cost"].to(str), "summary-cost"),
            _stat("Inputs", s["inputs"].to(str), "summary-inputs"),
            class_name="pw-stats",
        ),
        rx.cond(s["error"].to(str) != "", rx.el.div(s["error"].to(str), class_name="pw-run-error",
                                                     custom_attrs={"data-testid": "run-error", "role": "alert"})),
        rx.cond(
            s["final_answer"].to(str) != "",
            rx.el.div(rx.el.div("Final answer (", s["review_status"].to(str), " by a reviewer)", class_name="pw-stat-label"),
                      rx.el.div(s["final_answer"].to(str), class_name="pw-final"),
                      custom_attrs={"data-testid": "run-final-answer"}),
            rx.cond(s["review_status"].to(str) != "",
                    rx.el.div("The reviewer ", s["review_status"].to(str), " the answer: there is no final answer.",
                              class_name="pw-run-error", custom_attrs={"data-testid": "run-final-answer"})),
        ),
        rx.cond(RunSummaryState.review_task != "",
                rx.el.a("Waiting for a human review: open it in the review inbox →",
                        href="/reviews?task=" + RunSummaryState.review_task, class_name="pw-open",
                        custom_attrs={"data-testid": "run-review-link"})),
        rx.foreach(RunSummaryState.outputs, lambda o: rx.el.div(
            rx.el.div("Output ", rx.el.code(o["name"].to(str)), class_name="pw-stat-label"),
            json_tree(o["value"], "run-output-" + o["name"].to(str), 1),
            class_name="pw-output")),
    )


def _run_tab() -> rx.Component:
    return rx.el.div(
        _problems(),
        rx.cond(RunState.started_from != "",
                rx.el.p("Run from ", rx.el.code(RunState.started_from), ": that node and what depends on it ran again; "
                        "the other nodes reused the last run's outputs (shown as reused).", class_name="pw-muted",
                        custom_attrs={"data-testid": "run-from-note"})),
        rx.cond(RunSummaryState.summary.length() > 0, _summary(),
                rx.cond(RunState.status == "running",
                        rx.el.p("Running… the summary appears when the run ends. Click a node to follow it.",
                                class_name="pw-muted"),
                        rx.cond(RunState.problems.length() == 0,
                                rx.el.p("Type the inputs above and press Run (Ctrl+Enter).", class_name="pw-muted")))),
        class_name="pw-tab-body",
        custom_attrs={"data-testid": "run-summary"},
    )


def _timeline_row(row: Any) -> rx.Component:
    return rx.el.div(
        rx.el.span(row["node_id"].to(str), class_name="pw-gantt-name"),
        rx.el.div(
            rx.el.div(class_name="pw-gantt-bar pw-gantt-" + row["status"].to(str),
                      style={"left": row["left"].to(str), "width": row["width"].to(str)},
                      title=row["node_id"].to(str) + ": starts at " + row["start"].to(str) + ", takes "
                      + row["duration"].to(str)),
            class_name="pw-gantt-track",
        ),
        rx.el.span(row["duration"].to(str), class_name="pw-gantt-ms"),
        class_name=rx.cond(row["critical"].to(bool), "pw-gantt-row pw-critical", "pw-gantt-row"),
        custom_attrs={"data-testid": "timeline-row-" + row["node_id"].to(str),
                      "data-critical": row["critical"].to(bool).to(str)},
    )


def _timeline_tab() -> rx.Component:
    t = RunSummaryState.timeline
    return rx.el.div(
        rx.cond(
            t.length() > 0,
            rx.el.div(
                rx.el.p("Total ", rx.el.b(t["total"].to(str)), " · sum of node latencies ", rx.el.b(t["sum"].to(str)),
                        " · parallelism saved ", rx.el.b(t["saved"].to(str)), " (", t["speedup"].to(str), ")",
                        class_name="pw-muted", custom_attrs={"data-testid": "timeline-totals"}),
                rx.el.p("Critical path: ", rx.el.code(t["path"].to(str)), class_name="pw-muted",
                        custom_attrs={"data-testid": "timeline-critical-path"}),
                rx.foreach(t["rows"].to(list[dict[str, Any]]), _timeline_row),
            ),
            rx.el.p("Run the pipeline to see when each node ran.", class_name="pw-muted"),
        ),
        class_name="pw-tab-body",
        custom_attrs={"data-testid": "timeline"},
    )


def _history_row(row: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.el.span(row["status"].to(str), class_name="pw-chip pw-chip-" + row["status"].to(str))),
        rx.el.td(row["started"].to(str), class_name="pw-muted"),
        rx.el.td(row["latency"].to(str)),
        rx.el.td(row["tokens"].to(str)),
        rx.el.td(row["cost"].to(str)),
        rx.el.td(row["inputs"].to(str), class_name="pw-history-inputs"),
        rx.el.td(rx.cond(row["review"].to(str) != "", row["review"].to(str), "")),
        on_click=HistoryState.open_run(row["id"].to(str)),
        class_name=rx.cond(RunState.run_id == row["id"].to(str), "pw-history-row pw-history-on", "pw-history-row"),
        custom_attrs={"data-testid": "history-item-" + row["id"].to(str), "data-status": row["status"].to(str),
                      "title": "Open this run as it ran (read-only)"},
    )


def _history_tab() -> rx.Component:
    return rx.el.div(
        rx.cond(
            HistoryState.rows.length() > 0,
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("Status", "Started", "Latency", "Tokens", "Cost",
                                                               "Inputs", "Review")])),
                rx.el.tbody(rx.foreach(HistoryState.rows, _history_row)),
                class_name="pw-table pw-history",
            ),
            rx.el.p("No runs of this pipeline yet.", class_name="pw-muted"),
        ),
        class_name="pw-tab-body",
        custom_attrs={"data-testid": "history-list", "data-count": HistoryState.rows.length()},
    )


def bottom_panel() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            _tab(rx.fragment("Issues ", rx.el.span(EditorState.issues.length().to(str), class_name="pw-count")), "issues"),
            _tab("Run", "run"),
            _tab("Timeline", "timeline"),
            _tab("History", "history"),
            class_name="pw-tabs",
            custom_attrs={"role": "tablist"},
        ),
        rx.match(RunState.tab, ("run", _run_tab()), ("timeline", _timeline_tab()), ("history", _history_tab()),
                 issues_panel()),
        class_name="pw-bottom",
        custom_attrs={"data-testid": "bottom-panel", "data-tab": RunState.tab},
    )
