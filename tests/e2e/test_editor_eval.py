"""The Evaluate tab: upload a dataset, assert on a node's port, run the experiment (progress, table, a plot),
open a row's run, compare with a baseline (regressed rows first, the changed node outlined on the canvas, its
param diff), and publish: accepted first, refused on a regression, accepted again once fixed."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from editor.upload_limit import upload_limit_bytes

from . import runs, ui
from .server import Server

ROWS = [{"id": "a", "q": "hello", "expected": "HELLO"}, {"id": "b", "q": "patch", "expected": "PATCH"},
        {"id": "c", "q": "wire", "expected": "WIRE"}]


def shout_pipeline(name: str) -> dict:
    return runs.spec(name, {"q": ("io.input", {"name": "q"}), "shout": ("e2e.shout", {}), "out": ("io.output", {})},
                     [("q", "value", "shout", "text"), ("shout", "text", "out", "value")])


def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "shout_rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def run_experiment(page: Page, before: str) -> str:
    """Press Run experiment; wait for the new experiment's results; return its id."""
    page.get_by_test_id("eval-run").click()
    results = page.get_by_test_id("eval-results")
    expect(results).not_to_have_attribute("data-experiment-id", before, timeout=runs.RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("eval-progress")).to_have_attribute("data-running", "false")
    expect(page.get_by_test_id("eval-progress")).to_have_attribute("data-done", "3")
    return results.get_attribute("data-experiment-id") or ""


def publish(page: Page, status: str) -> None:
    page.get_by_test_id("eval-publish").click()
    expect(page.get_by_test_id("eval-publish-status")).to_have_attribute("data-status", status)


def set_mode(page: Page, mode: str) -> None:
    ui.select_node(page, "shout")
    after = ui.revision(page)
    page.get_by_test_id("param-mode").select_option(mode)
    ui.wait_saved(page, after)


def test_evaluate_compare_and_publish(server: Server, page: Page, tmp_path: Path) -> None:
    pipeline = runs.create_pipeline(server.data_dir, shout_pipeline("eval in the editor"))
    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("eval-tab").click()
    expect(page.get_by_test_id("bottom-panel")).to_have_attribute("data-tab", "evaluate")

    # The dataset: uploaded, previewed, its `q` column feeding the pipeline's `q` input.
    page.get_by_test_id("eval-upload").locator("input[type=file]").set_input_files(str(dataset(tmp_path)))
    preview = page.get_by_test_id("eval-preview")
    expect(preview).to_have_attribute("data-rows", "3")
    expect(preview).to_contain_text("hello")
    expect(page.get_by_test_id("eval-input-q")).to_have_value("q")

    # An assertion from the shout node's output port, compared with the `expected` column.
    ui.select_node(page, "shout")
    page.get_by_test_id("assert-port-shout-text").click()
    expect(page.get_by_test_id("bottom-panel")).to_have_attribute("data-tab", "evaluate")
    expect(page.get_by_test_id("eval-assert-node")).to_have_value("shout")
    expect(page.get_by_test_id("eval-assert-port")).to_have_value("text")
    page.get_by_test_id("eval-assert-type").select_option("contains")
    page.get_by_test_id("eval-assert-column").fill("expected")
    page.get_by_test_id("eval-assert-add").click()
    expect(page.get_by_test_id("eval-assertion-shout_text_contains")).to_contain_text("shout.text contains column expected")

    # Run: progress, the rows × assertions table, the plots.
    first = run_experiment(page, "")
    expect(page.get_by_test_id("eval-score")).to_have_text("100.0%")
    for row in ROWS:
        expect(page.get_by_test_id(f"eval-cell-{row['id']}-shout_text_contains")).to_have_attribute("data-passed", "true")
    chart = page.get_by_test_id("eval-chart-pass-rate")
    expect(chart).to_have_attribute("data-points", "1")
    expect(chart.locator(".recharts-bar-rectangle")).to_have_count(1)
    expect(page.get_by_test_id("eval-chart-latency").locator(".recharts-bar-rectangle").first).to_be_visible()

    # A row opens its run on the canvas, as the history does.
    row_a = page.get_by_test_id("eval-row-a")
    run_id = row_a.get_attribute("data-run-id") or ""
    assert run_id
    row_a.click()
    expect(page.get_by_test_id("viewing-banner")).to_have_attribute("data-run-id", run_id)
    runs.expect_node(page, "shout", "succeeded")
    page.get_by_test_id("back-to-editing").click()
    expect(page.get_by_test_id("viewing-banner")).to_have_count(0)

    # Nothing published yet: publishing with the suite attached is accepted (no baseline to regress from).
    page.get_by_test_id("eval-tab").click()
    publish(page, "published")
    expect(page.get_by_test_id("eval-published")).to_contain_text("version #")

    # A change that breaks every row: compared with the first experiment, regressions first, the node outlined.
    set_mode(page, "lower")
    page.get_by_test_id("eval-tab").click()
    second = run_experiment(page, first)
    expect(page.get_by_test_id("eval-score")).to_have_text("0.0%")
    page.get_by_test_id("eval-baseline").select_option(first)
    expect(page.get_by_test_id("eval-regressed")).to_have_text("3")
    expect(page.get_by_test_id("eval-delta-score")).to_have_text("−100.0 pts")
    expect(page.get_by_test_id("eval-results").locator("tbody tr").first).to_have_attribute("data-mark", "regressed")
    expect(page.get_by_test_id("eval-diff-shout-mode")).to_contain_text("shout.mode: (default) → lower")
    expect(ui.node(page, "shout")).to_have_attribute("data-outline", "changed")
    expect(ui.node(page, "q")).not_to_have_attribute("data-outline", "changed")
    legend = page.get_by_test_id("eval-chart-pass-rate").locator(".recharts-legend-item")
    expect(legend).to_have_count(2)  # this experiment's bars (0%: no height) and the baseline's beside them
    expect(legend.filter(has_text="baseline")).to_have_count(1)
    expect(page.get_by_test_id("eval-chart-pass-rate").locator(".recharts-bar-rectangle")).to_have_count(1)

    # Publishing this version is refused by the gate, saying why.
    publish(page, "refused")
    expect(page.get_by_test_id("eval-publish-reasons")).to_contain_text("3 rows regressed (allowed 0)")

    # Fixed another way (upper case again, a new suffix): a new experiment, and publishing is accepted.
    ui.select_node(page, "shout")
    after = ui.revision(page)
    page.get_by_test_id("param-suffix").fill("?")
    ui.wait_saved(page, after)
    set_mode(page, "upper")
    page.get_by_test_id("eval-tab").click()
    run_experiment(page, second)
    expect(page.get_by_test_id("eval-score")).to_have_text("100.0%")
    expect(ui.node(page, "shout")).not_to_have_attribute("data-outline", "changed")  # a new run drops the diff
    publish(page, "published")
    expect(page.get_by_test_id("eval-publish-status")).to_contain_text("the gate of suite")


def test_an_invalid_assertion_is_explained_before_anything_runs(server: Server, page: Page, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a dataset")
    pipeline = runs.create_pipeline(server.data_dir, shout_pipeline("eval problems"))
    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("eval-tab").click()
    page.get_by_test_id("eval-assert-type").select_option("equals")
    page.get_by_test_id("eval-assert-node").fill("shout")
    page.get_by_test_id("eval-assert-add").click()
    expect(page.get_by_test_id("eval-assert-error")).to_contain_text("give a value or a dataset column")
    page.get_by_test_id("eval-assert-node").fill("nope")
    page.get_by_test_id("eval-assert-value").fill("x")
    page.get_by_test_id("eval-assert-add").click()
    expect(page.get_by_test_id("eval-assertion-nope_equals")).to_be_visible()
    page.get_by_test_id("eval-example").select_option("rag_questions.jsonl")  # the project's examples/eval/
    expect(page.get_by_test_id("eval-preview")).to_have_attribute("data-rows", "36")
    expect(page.get_by_test_id("eval-preview")).to_contain_text("What is Patchwire?")
    page.get_by_test_id("eval-upload").locator("input[type=file]").set_input_files(str(dataset(tmp_path)))
    expect(page.get_by_test_id("eval-preview")).to_have_attribute("data-rows", "3")
    page.get_by_test_id("eval-upload").locator("input[type=file]").set_input_files(str(tmp_path / "notes.txt"))
    expect(page.get_by_test_id("eval-dataset-error")).to_contain_text("`notes.txt` is not a dataset")
    # Over every upload cap: the server refuses it (413) before any handler runs, and the panel says so.
    with (tmp_path / "big.jsonl").open("wb") as big:
        big.truncate(upload_limit_bytes() + 1)
    page.get_by_test_id("eval-upload").locator("input[type=file]").set_input_files(str(tmp_path / "big.jsonl"))
    expect(page.get_by_test_id("eval-dataset-error")).to_contain_text(
        f"`big.jsonl` is {upload_limit_bytes() + 1:,} bytes; the editor takes datasets up to 20,000,000 bytes")
    page.get_by_test_id("eval-run").click()
    expect(page.get_by_test_id("eval-problems")).to_contain_text("nope")
    expect(page.get_by_test_id("eval-results")).to_have_count(0)
