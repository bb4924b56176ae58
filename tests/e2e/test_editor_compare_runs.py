"""Comparing two runs from History: per node their outputs side by side (a text diff for strings, a JSON diff
for other values), and the nodes whose outputs differ outlined on the canvas."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from . import runs, ui
from .server import Server


def pipeline() -> dict:
    return runs.spec("compare runs", {
        "q": ("io.input", {"name": "q"}), "shout": ("e2e.shout", {}), "out": ("io.output", {}),
        "n": ("io.input", {"name": "n", "type": "number"}), "double": ("e2e.double", {}),
        "out2": ("io.output", {}), "src": ("e2e.source", {}),
    }, [("q", "value", "shout", "text"), ("shout", "text", "out", "value"), ("n", "value", "double", "value"),
        ("double", "doubled", "out2", "value")])


def test_two_runs_compared_node_by_node_with_the_differing_nodes_outlined(server: Server, page: Page) -> None:
    pipeline_id = runs.create_pipeline(server.data_dir, pipeline())
    runs.open_pipeline(page, server.base, pipeline_id)
    first = runs.start_run(page, q="hello", n="2")
    runs.wait_run(page, "succeeded")
    second = runs.start_run(page, q="world", n="3")
    runs.wait_run(page, "succeeded")

    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id("history-list")).to_have_attribute("data-count", "2")
    button = page.get_by_test_id("compare-runs-button")
    expect(button).to_be_disabled()
    page.get_by_test_id(f"history-pick-{first}").click()
    expect(page.get_by_test_id(f"history-pick-{first}")).to_be_checked()
    expect(page.get_by_test_id("viewing-banner")).to_have_count(0)  # picking does not open the run
    page.get_by_test_id(f"history-pick-{second}").click()
    expect(page.get_by_test_id(f"history-pick-{second}")).to_be_checked()
    expect(button).to_be_enabled()
    button.click()

    shout = page.get_by_test_id("run-diff-shout")
    expect(shout).to_have_attribute("data-same", "false")
    text = shout.get_by_test_id("run-diff-port-text")
    expect(text).to_have_attribute("data-kind", "text")
    expect(text).to_contain_text("HELLO!")
    expect(text).to_contain_text("WORLD!")
    double = page.get_by_test_id("run-diff-double").get_by_test_id("run-diff-port-doubled")
    expect(double).to_have_attribute("data-kind", "json")
    expect(double).to_contain_text("$: 4.0 → 6.0")
    expect(page.get_by_test_id("run-diff-src")).to_have_attribute("data-same", "true")
    expect(page.get_by_test_id("run-diffs")).to_have_attribute("data-differing", "6")  # all but src

    for node_id in ("q", "shout", "out", "n", "double", "out2"):
        expect(ui.node(page, node_id)).to_have_attribute("data-outline", "differs")
    expect(ui.node(page, "src")).not_to_have_attribute("data-outline", "differs")

    page.get_by_test_id("compare-runs-close").click()
    expect(page.get_by_test_id("run-diffs")).to_have_count(0)
    expect(ui.node(page, "shout")).not_to_have_attribute("data-outline", "differs")
