"""The run bar under the canvas (one field per input, Run, Stop, the run's status) and the bottom tabs
(issues, run summary, timeline, history)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from .. import routes
from ..run_views import HistoryRow, InputField
from ..state.editor import EditorState
from ..state.history import HistoryState
from ..state.run import RunState
from ..state.run_summary import GanttRow, RunOutput, RunSummaryState
from ..statuses import IDLE
from .compare_runs import compare_bar, pick_box, run_diffs
from .debug_panel import debug_controls, edited_mark
from .evaluate_panel import eval_tab, evaluate_panel
from .issues_panel import issues_panel
from .json_view import json_tree
from .monitor_panel import heat_toggle, monitor_tab, run_network_line
from .warmup_status import warmup_status

__all__ = ["run_bar", "bottom_panel", "viewing_banner", "STATUS_TEXT"]

# One text per status the run bar can show: idle, then every `runtime.events.RunStatus` (a test checks both agree).
STATUS_TEXT = ((IDLE, "Not run yet"), ("running", "Running…"), ("succeeded", "Succeeded"), ("failed", "Failed"),
               ("cancelled", "Stopped"), ("interrupted", "Interrupted (the server stopped)"))


def _field(field: rx.Var[InputField]) -> rx.Component:
    name, placeholder, description = field["name"], field["placeholder"], field["description"]
    common = {"name": "in:" + name, "id": "run-input-" + name, "default_value": RunState.values[name].to(str),
              "custom_attrs": {"data-testid": "run-input-" + name}, "key": name + ":" + RunState.form_key.to(str),
              "title": description}
    control = rx.match(
        field["kind"],
        ("number", rx.el.input(type="number", step="any", class_name="pw-input pw-run-num", placeholder=placeholder,
                               **common)),
        ("integer", rx.el.input(type="number", step="1", class_name="pw-input pw-run-num", placeholder=placeholder,
                                **common)),
        ("boolean", rx.el.select(rx.el.option(rx.cond(field["required"], "false", "default"), value=""),
                                 rx.el.option("true", value="true"), rx.el.option("false", value="false"),
                                 class_name="pw-input pw-run-num", **common)),
        ("json", rx.el.textarea(rows=1, class_name="pw-input pw-run-text pw-mono",
                                placeholder=rx.cond(placeholder != "", placeholder, "JSON"), **common)),
        rx.el.textarea(rows=1, class_name="pw-input pw-run-text",
                       placeholder=rx.cond(placeholder != "", placeholder, description), **common),
    )
    return rx.el.label(
        rx.el.span(name, rx.cond(field["required"], rx.el.span("*", class_name="pw-req")),
                   class_name="pw-run-name"),
        control,
        class_name="pw-run-field",
    )


def run_status() -> rx.Component:
    summary = RunSummaryState.summary
    return rx.el.span(
        rx.match(RunState.status, *STATUS_TEXT, RunState.status),
        rx.cond((RunState.status != "running") & (summary.length() > 0) & (summary["latency"] != ""),
                rx.el.span(" in ", summary["latency"])),  # `{}` (no run): its missing latency is not ""
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
            debug_controls(),
            run_status(),
            warmup_status(),
            heat_toggle(),
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
            rx.button("Back to editing", on_click=RunState.back_to_editing, size="1",
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


def _output(output: rx.Var[RunOutput]) -> rx.Component:
    return rx.el.div(
        rx.el.div("Output ", rx.el.code(output["name"]), class_name="pw-stat-label"),
        json_tree(output["value"], "run-output-" + output["name"], 1),
        class_name="pw-output")


def _summary() -> rx.Component:
    s = RunSummaryState.summary
    return rx.el.div(
        rx.el.div(
            _stat("Status", s["status"], "summary-status"),
            _stat("Total latency", s["latency"], "summary-latency"),
            _stat("Node time (sum)", s["node_sum"], "summary-node-sum"),
            _stat("Tokens", s["tokens"], "summary-tokens"),
            _stat("Cost", s["cost"], "summary-cost"),
            _stat("Inputs", s["inputs"], "summary-inputs"),
            class_name="pw-stats",
        ),
        edited_mark(s["edited"].to(str), "summary-edited"),
        run_network_line(),
        rx.cond(s["error"] != "", rx.el.div(s["error"], class_name="pw-run-error",
                                            custom_attrs={"data-testid": "run-error", "role": "alert"})),
        rx.cond(
            s["final_answer"] != "",
            rx.el.div(rx.el.div("Final answer (", s["review_status"], " by a reviewer)", class_name="pw-stat-label"),
                      rx.el.div(s["final_answer"], class_name="pw-final"),
                      custom_attrs={"data-testid": "run-final-answer"}),
            rx.cond(s["review_status"] != "",
                    rx.el.div("The reviewer ", s["review_status"], " the answer: there is no final answer.",
                              class_name="pw-run-error", custom_attrs={"data-testid": "run-final-answer"})),
        ),
        rx.cond(RunSummaryState.review_task != "",
                rx.el.a("Waiting for a human review: open it in the review inbox →",
                        href=routes.review(RunSummaryState.review_task), class_name="pw-open",
                        custom_attrs={"data-testid": "run-review-link"})),
        rx.foreach(RunSummaryState.outputs, _output),
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


def _timeline_row(row: rx.Var[GanttRow]) -> rx.Component:
    return rx.el.div(
        rx.el.span(row["label"], class_name="pw-gantt-name"),
        rx.el.div(
            rx.el.div(class_name="pw-gantt-bar pw-gantt-" + row["status"],
                      style={"left": row["left"], "width": row["width"]},
                      title=row["node_id"] + ": starts at " + row["start"] + ", takes " + row["duration"]),
            class_name="pw-gantt-track",
        ),
        rx.el.span(row["duration"], class_name="pw-gantt-ms"),
        class_name=rx.cond(row["critical"], "pw-gantt-row pw-critical", "pw-gantt-row"),
        custom_attrs={"data-testid": "timeline-row-" + row["node_id"], "data-critical": row["critical"].to(str),
                      "data-depth": row["depth"]},  # 1: an item or iteration of the flow node above
    )


def _timeline_tab() -> rx.Component:
    t = RunSummaryState.timeline
    return rx.el.div(
        rx.cond(
            t.length() > 0,
            rx.el.div(
                rx.el.p("Total ", rx.el.b(t["total"]), " · sum of node latencies ", rx.el.b(t["sum"]),
                        " · parallelism saved ", rx.el.b(t["saved"]), " (", t["speedup"], ")",
                        class_name="pw-muted", custom_attrs={"data-testid": "timeline-totals"}),
                rx.el.p("Critical path: ", rx.el.code(t["path"]), class_name="pw-muted",
                        custom_attrs={"data-testid": "timeline-critical-path"}),
                rx.foreach(t["rows"], _timeline_row),
            ),
            rx.el.p("Run the pipeline to see when each node ran.", class_name="pw-muted"),
        ),
        class_name="pw-tab-body",
        custom_attrs={"data-testid": "timeline"},
    )


def _history_row(row: rx.Var[HistoryRow]) -> rx.Component:
    run_id, status, source = row["id"], row["status"], row["source"]
    return rx.el.tr(
        pick_box(run_id),
        rx.el.td(rx.el.span(status, class_name="pw-chip pw-chip-" + status),
                 edited_mark(row["edited"], "history-edited-" + run_id)),
        rx.el.td(row["started"], class_name="pw-muted"),
        rx.el.td(rx.el.span(source, class_name="pw-source", title="Where the run came from",
                            custom_attrs={"data-testid": "history-source-" + run_id, "data-source": source})),
        rx.el.td(row["latency"]),
        rx.el.td(row["tokens"]),
        rx.el.td(row["cost"]),
        rx.el.td(row["inputs"], class_name="pw-history-inputs"),
        rx.el.td(row["review"]),
        on_click=RunState.open_run(run_id),
        class_name=rx.cond(RunState.run_id == run_id, "pw-history-row pw-history-on", "pw-history-row"),
        custom_attrs={"data-testid": "history-item-" + run_id, "data-status": status,
                      "title": "Open this run as it ran (read-only)"},
    )


def _history_tab() -> rx.Component:
    return rx.el.div(
        rx.cond(HistoryState.rows.length() > 1, compare_bar()),
        run_diffs(),
        rx.cond(
            HistoryState.rows.length() > 0,
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("", "Status", "Started", "Source", "Latency", "Tokens",
                                                               "Cost", "Inputs", "Review")])),
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
            _tab("Monitor", "monitor"),
            eval_tab(),
            class_name="pw-tabs",
            custom_attrs={"role": "tablist"},
        ),
        rx.match(RunState.tab, ("run", _run_tab()), ("timeline", _timeline_tab()), ("history", _history_tab()),
                 ("monitor", monitor_tab()), ("evaluate", evaluate_panel()), issues_panel()),
        class_name="pw-bottom",
        custom_attrs={"data-testid": "bottom-panel", "data-tab": RunState.tab},
    )
