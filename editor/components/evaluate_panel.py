"""The Evaluate tab: dataset (upload or an example, with a preview), assertions (a form, or "assert on this
port" in the inspector), the experiment's live progress and results, the comparison with a baseline (its graph
diff outlined on the canvas) and Publish."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..eval_forms import ASSERTION_TYPES, FormField
from ..state.eval_compare import EvalCompareState, PublishState
from ..state.evaluate import UPLOAD_ID, EvalPortsState, EvalState
from ..state.run import RunState
from .eval_charts import eval_charts
from .eval_gate_form import engine_choice, gate_section, gate_verdict
from .upload_refusal import upload_refusal

__all__ = ["evaluate_panel", "eval_tab", "port_asserts"]

C = EvalCompareState


def eval_tab() -> rx.Component:
    """The tab button (beside Issues, Run, Timeline, History)."""
    return rx.el.button(
        "Evaluate", type="button", on_click=[RunState.set_tab("evaluate"), EvalState.open, PublishState.open],
        class_name=rx.cond(RunState.tab == "evaluate", "pw-tab pw-tab-on", "pw-tab"),
        custom_attrs={"data-testid": "eval-tab", "aria-selected": RunState.tab == "evaluate", "role": "tab"})


def port_asserts() -> rx.Component:
    """In the inspector: the selected node's output ports, each with "assert on this port"."""
    node = EvalPortsState.node_id
    return rx.cond(
        EvalPortsState.ports.length() > 0,
        rx.el.div(
            rx.el.h4("Outputs", class_name="pw-section"),
            rx.foreach(EvalPortsState.ports, lambda p: rx.el.div(
                rx.el.code(p["port"]), rx.el.span(p["type"], class_name="pw-muted"),
                rx.button("Assert on this port", size="1", variant="soft", type="button",
                          on_click=[EvalState.assert_on_port(node, p["port"], p["type"]), RunState.set_tab("evaluate"),
                                    PublishState.open],
                          title="Add an assertion on this output to the pipeline's eval suite (Evaluate tab)",
                          custom_attrs={"data-testid": "assert-port-" + node + "-" + p["port"]}),
                class_name="pw-row pw-eval-port", key=p["port"])),
            custom_attrs={"data-testid": "eval-ports"},
        ),
    )


def _preview() -> rx.Component:
    return rx.cond(
        EvalState.columns.length() > 0,
        rx.el.div(
            rx.el.p(EvalState.dataset_label, " · ", EvalState.row_count.to(str), " rows (first ones shown)",
                    class_name="pw-muted"),
            rx.el.table(
                rx.el.thead(rx.el.tr(rx.foreach(EvalState.columns, lambda c: rx.el.th(c)))),
                rx.el.tbody(rx.foreach(EvalState.preview_rows, lambda r: rx.el.tr(rx.foreach(r, lambda v: rx.el.td(v))))),
                class_name="pw-table pw-eval-table",
            ),
            custom_attrs={"data-testid": "eval-preview", "data-rows": EvalState.row_count.to(str)},
        ),
    )


def _input_map() -> rx.Component:
    return rx.foreach(EvalState.input_map, lambda m: rx.el.label(
        "input ", rx.el.code(m["name"]), " ← column ",
        rx.el.select(rx.foreach(EvalState.columns, lambda c: rx.el.option(c, value=c)), value=m["column"],
                     on_change=lambda column: EvalState.set_input_column(m["name"], column), class_name="pw-input",
                     custom_attrs={"data-testid": "eval-input-" + m["name"]}),
        class_name="pw-row pw-nowrap", key=m["name"]))


def _dataset() -> rx.Component:
    return rx.el.section(
        rx.el.h4("Dataset", class_name="pw-section"),
        rx.upload(
            rx.el.div("Drop a .jsonl or .csv dataset here, or click to choose one.", class_name="pw-muted"),
            id=UPLOAD_ID, max_files=1, multiple=False, on_drop=EvalState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
            class_name="pw-dropzone", custom_attrs={"data-testid": "eval-upload"},
        ),
        upload_refusal(EvalState.upload, EvalState.upload_refused),
        rx.cond(EvalState.examples.length() > 0, rx.el.label(
            "or an example: ",
            rx.el.select(rx.el.option("choose…", value=""), rx.foreach(EvalState.examples, lambda e: rx.el.option(e, value=e)),
                         value="", on_change=EvalState.pick_example, class_name="pw-input",
                         custom_attrs={"data-testid": "eval-example"}),
            class_name="pw-row pw-nowrap")),
        rx.cond(EvalState.dataset_error != "", rx.el.div(EvalState.dataset_error, class_name="pw-field-error",
                                                         custom_attrs={"data-testid": "eval-dataset-error"})),
        _preview(),
        _input_map(),
        class_name="pw-eval-col",
    )


def _form_field(field: rx.Var[FormField]) -> rx.Component:
    default = rx.match(field["name"], ("node", EvalState.form_node), ("port", EvalState.form_port), "")
    return rx.el.label(
        rx.el.span(field["label"], class_name="pw-run-name"),
        rx.el.input(name=field["name"], default_value=default, placeholder=field["placeholder"], class_name="pw-input",
                    key=field["name"] + ":" + EvalState.form_key.to(str),
                    custom_attrs={"data-testid": "eval-assert-" + field["name"]}),
        class_name="pw-run-field",
    )


def _assertion(a: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.li(
        rx.el.b(a["name"]), " ", rx.el.span(a["text"], class_name="pw-muted"),
        rx.el.button("×", type="button", on_click=EvalState.remove_assertion(a["name"]), class_name="pw-eval-remove",
                     title="Remove this assertion", custom_attrs={"data-testid": "eval-remove-" + a["name"]}),
        custom_attrs={"data-testid": "eval-assertion-" + a["name"]}, key=a["name"],
    )


def _assertions() -> rx.Component:
    return rx.el.section(
        rx.el.h4("Assertions", class_name="pw-section"),
        rx.cond(EvalState.assertions.length() > 0,
                rx.el.ul(rx.foreach(EvalState.assertions, _assertion), class_name="pw-eval-assertions",
                         custom_attrs={"data-testid": "eval-assertions"}),
                rx.el.p("None yet: select a node and press “Assert on this port”, or fill in the form.",
                        class_name="pw-muted")),
        rx.el.form(
            rx.el.div(
                rx.el.label(rx.el.span("Type", class_name="pw-run-name"),
                            rx.el.select(*[rx.el.option(t, value=t) for t in ASSERTION_TYPES], name="type",
                                         value=EvalState.form_type, on_change=EvalState.set_form_type,
                                         class_name="pw-input", custom_attrs={"data-testid": "eval-assert-type"}),
                            class_name="pw-run-field"),
                rx.el.label(rx.el.span("Name", class_name="pw-run-name"),
                            rx.el.input(name="name", placeholder="(from node, port and type)", class_name="pw-input",
                                        key="name:" + EvalState.form_key.to(str),
                                        custom_attrs={"data-testid": "eval-assert-name"}),
                            class_name="pw-run-field"),
                rx.foreach(EvalState.form_fields, _form_field),
                class_name="pw-eval-form-fields",
            ),
            rx.cond(EvalState.form_error != "", rx.el.div(EvalState.form_error, class_name="pw-field-error",
                                                          custom_attrs={"data-testid": "eval-assert-error",
                                                                        "role": "alert"})),
            rx.button("Add assertion", type="submit", size="1", custom_attrs={"data-testid": "eval-assert-add"}),
            on_submit=EvalState.add_assertion, reset_on_submit=False, class_name="pw-eval-form",
            custom_attrs={"data-testid": "eval-assert-form"},
        ),
        class_name="pw-eval-col",
    )


def _run() -> rx.Component:
    return rx.el.section(
        rx.el.h4("Experiment", class_name="pw-section"),
        rx.el.div(
            rx.button(rx.cond(EvalState.running, "Running…", "Run experiment"), on_click=EvalState.run_experiment,
                      disabled=EvalState.running, size="1", custom_attrs={"data-testid": "eval-run"}),
            rx.button("Publish", on_click=PublishState.publish, size="1", variant="soft", color_scheme="green",
                      title="Mark this version published; with assertions, only when the suite's gate holds against "
                            "the published version's latest experiment",
                      custom_attrs={"data-testid": "eval-publish"}),
            class_name="pw-row",
        ),
        engine_choice(),
        rx.el.div(EvalState.progress, class_name="pw-muted",
                  custom_attrs={"data-testid": "eval-progress", "data-done": EvalState.done.to(str),
                                "data-total": EvalState.total.to(str), "data-running": EvalState.running.to(str)}),
        rx.cond(EvalState.problems.length() > 0, rx.el.div(
            rx.el.b("Nothing ran. Fix this first:"), rx.el.ul(rx.foreach(EvalState.problems, lambda p: rx.el.li(p))),
            class_name="pw-run-problems", custom_attrs={"data-testid": "eval-problems", "role": "alert"})),
        _publish(),
        rx.el.p("Suite ", rx.el.code(EvalState.suite_name), ": also runs with ", rx.el.code("patchwire eval"),
                class_name="pw-muted"),
        class_name="pw-eval-col",
    )


def _publish() -> rx.Component:
    return rx.el.div(
        rx.cond(PublishState.published != "", rx.el.p("Published now: ", PublishState.published, class_name="pw-muted",
                                                       custom_attrs={"data-testid": "eval-published"})),
        rx.cond(PublishState.status != "", rx.el.div(
            rx.el.div(PublishState.message),
            rx.el.ul(rx.foreach(PublishState.reasons, lambda r: rx.el.li(r)),
                     custom_attrs={"data-testid": "eval-publish-reasons"}),
            class_name=rx.cond(PublishState.status == "refused", "pw-run-problems", "pw-eval-ok"),
            custom_attrs={"data-testid": "eval-publish-status", "data-status": PublishState.status, "role": "status"})),
    )


def _card(label: str, value: Any, testid: str) -> rx.Component:
    return rx.el.div(rx.el.span(label, class_name="pw-stat-label"), rx.el.span(value, custom_attrs={"data-testid": testid}),
                     class_name="pw-stat")


def _cards() -> rx.Component:
    c = EvalState.cards
    return rx.el.div(
        _card("Score", c["score"], "eval-score"), _card("Rows", c["rows"], "eval-rows"),
        _card("Latency p50", c["p50"], "eval-p50"), _card("Latency p95", c["p95"], "eval-p95"),
        _card("Cost", c["cost"], "eval-cost"), _card("Experiment", c["experiment_id"], "eval-experiment-id"),
        class_name="pw-stats",
    )


def _comparison() -> rx.Component:
    shown = (C.compared_for == EvalState.experiment_id) & (C.baseline_id != "")
    return rx.el.div(
        rx.el.label(
            "Compare with baseline: ",
            rx.el.select(rx.el.option("(none)", value=""),
                         rx.foreach(EvalState.experiments, lambda e: rx.cond(
                             e["id"] != EvalState.experiment_id, rx.el.option(e["label"], value=e["id"]))),
                         value=rx.cond(shown, C.baseline_id, ""), on_change=C.compare, class_name="pw-input",
                         custom_attrs={"data-testid": "eval-baseline"}),
            class_name="pw-row pw-nowrap"),
        rx.cond(C.error != "", rx.el.div(C.error, class_name="pw-field-error")),
        rx.cond(shown, rx.el.div(
            _card("Score Δ", C.cards["score"], "eval-delta-score"), _card("Latency p95 Δ", C.cards["p95"], "eval-delta-p95"),
            _card("Cost Δ", C.cards["cost"], "eval-delta-cost"), _card("Regressed", C.cards["regressed"], "eval-regressed"),
            _card("Improved", C.cards["improved"], "eval-improved"),
            class_name="pw-stats", custom_attrs={"data-testid": "eval-compare"})),
    )


def _row(row: rx.Var[Any]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(row["id"], rx.cond(row["mark"] != "", rx.el.span(row["mark"], class_name="pw-eval-mark pw-eval-"
                                                                   + row["mark"].to(str)))),
        rx.foreach(row["cells"], lambda cell: rx.el.td(
            rx.cond(cell["passed"], "pass", "FAIL"), title=cell["title"],
            class_name=rx.cond(cell["passed"], "pw-eval-pass", "pw-eval-fail"),
            custom_attrs={"data-testid": "eval-cell-" + row["id"].to(str) + "-" + cell["name"].to(str),
                          "data-passed": cell["passed"].to(str)})),
        on_click=RunState.open_run(row["run_id"]),
        class_name="pw-history-row",
        custom_attrs={"data-testid": "eval-row-" + row["id"].to(str), "data-mark": row["mark"],
                      "data-status": row["status"], "data-run-id": row["run_id"],
                      "title": "Open this row's run on the canvas (read-only)"},
    )


def _diff_entry(d: rx.Var[Any]) -> rx.Component:
    return rx.el.div(
        rx.el.div(rx.el.code(d["node"].to(str)), ".", rx.el.code(d["param"].to(str)), ": ",
                  rx.el.span(d["old"].to(str), class_name="pw-eval-old"), " → ",
                  rx.el.span(d["new"].to(str), class_name="pw-eval-new")),
        rx.cond(d["lines"].to(list[str]).length() > 0,
                rx.el.pre(rx.foreach(d["lines"].to(list[str]), lambda line: rx.el.div(line)), class_name="pw-pre")),
        class_name="pw-eval-diff-entry",
        custom_attrs={"data-testid": "eval-diff-" + d["node"].to(str) + "-" + d["param"].to(str)},
    )


def _graph_diff() -> rx.Component:
    shown = (C.compared_for == EvalState.experiment_id) & (C.baseline_id != "")
    return rx.cond(shown, rx.el.aside(
        rx.el.h4("Pipeline changes since the baseline", class_name="pw-section"),
        rx.cond(C.param_diffs.length() > 0, rx.foreach(C.param_diffs, _diff_entry),
                rx.el.p("The pipeline is the same as the baseline's.", class_name="pw-muted")),
        rx.el.p("Changed nodes are outlined on the canvas.", class_name="pw-muted"),
        class_name="pw-eval-side", custom_attrs={"data-testid": "eval-graph-diff"}))


def _results() -> rx.Component:
    return rx.cond(EvalState.experiment_id != "", rx.el.div(
        _cards(),
        gate_verdict(),
        _comparison(),
        rx.el.div(
            rx.el.div(
                rx.el.table(
                    rx.el.thead(rx.el.tr(rx.el.th("row"), rx.foreach(EvalState.names, lambda n: rx.el.th(n)))),
                    rx.el.tbody(rx.foreach(EvalState.rows, _row)),
                    class_name="pw-table pw-eval-table",
                ),
                eval_charts(),
                class_name="pw-eval-main",
            ),
            _graph_diff(),
            class_name="pw-eval-results-cols",
        ),
        custom_attrs={"data-testid": "eval-results", "data-experiment-id": EvalState.experiment_id,
                      "data-rows": EvalState.rows.length().to(str)},
    ))


def evaluate_panel() -> rx.Component:
    return rx.el.div(
        rx.el.div(_dataset(), _assertions(), gate_section(), _run(), class_name="pw-eval-cols"),
        _results(),
        class_name="pw-tab-body pw-eval",
        custom_attrs={"data-testid": "eval-panel", "data-suite": EvalState.suite_name},
    )
