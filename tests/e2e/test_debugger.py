"""The debugger in the canvas: breakpoints (a red dot, F9), a run paused before a node while an independent
branch finishes, its inputs edited as type-checked JSON, Step, Continue, Stop, and the history's mark."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from . import runs, ui
from .server import Server


def debug_spec(name: str) -> dict:
    """q -> loud (shout "!") -> quiet (lower, "?") -> out; and beside it q -> nap (sleep) -> side."""
    return runs.spec(name, {
        "q": ("io.input", {"name": "q"}), "loud": ("e2e.shout", {"suffix": "!"}),
        "quiet": ("e2e.shout", {"mode": "lower", "suffix": "?"}), "out": ("io.output", {}),
        "nap": ("e2e.sleep", {"seconds": 0.5}), "side": ("io.output", {}),
    }, [("q", "value", "loud", "text"), ("loud", "text", "quiet", "text"), ("quiet", "text", "out", "value"),
        ("q", "value", "nap", "text"), ("nap", "text", "side", "value")])


def toggle(page: Page, node_id: str) -> None:
    dot = page.get_by_test_id(f"breakpoint-{node_id}")
    before = dot.get_attribute("data-on")
    dot.click()
    expect(dot).to_have_attribute("data-on", "false" if before == "true" else "true")


def paused_inputs(page: Page) -> dict:
    box = page.get_by_test_id("paused-inputs")
    expect(box).to_be_visible()
    return json.loads(box.input_value())


def test_a_breakpoint_pauses_before_its_node_and_edits_step_and_continue_change_the_output(
        server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, debug_spec("debugged"))
    runs.open_pipeline(page, server.base, pipeline)
    dot = page.get_by_test_id("breakpoint-quiet")
    expect(dot).to_have_attribute("data-on", "false")
    toggle(page, "quiet")
    # F9 toggles the selected node's breakpoint; breakpoints survive a reload (stored beside the pipeline).
    ui.select_node(page, "nap")
    page.keyboard.press("F9")
    expect(page.get_by_test_id("breakpoint-nap")).to_have_attribute("data-on", "true")
    page.keyboard.press("F9")
    expect(page.get_by_test_id("breakpoint-nap")).to_have_attribute("data-on", "false")
    page.reload()
    ui.wait_ready(page)
    expect(page.get_by_test_id("breakpoint-quiet")).to_have_attribute("data-on", "true")
    expect(page.get_by_test_id("debug-continue")).to_have_count(0)

    runs.start_run(page, q="Hello")
    runs.expect_node(page, "quiet", "paused")
    runs.expect_node(page, "side", "succeeded")  # the independent branch (a 0.5 s nap) finishes meanwhile
    runs.expect_node(page, "loud", "succeeded", timeout=5000)
    runs.expect_node(page, "out", "queued", timeout=5000)
    expect(runs.run_status(page)).to_have_attribute("data-status", "running")
    expect(page.get_by_test_id("paused-panel")).to_have_attribute("data-node-id", "quiet")
    assert paused_inputs(page) == {"text": "HELLO!"}

    # A value that does not fit the port is refused inline; the node stays paused.
    page.get_by_test_id("paused-inputs").fill('{"text": 5}')
    page.get_by_test_id("debug-continue").click()
    expect(page.get_by_test_id("paused-inputs-error")).to_contain_text("input `text` expects str, but the edit gives int 5")
    runs.expect_node(page, "quiet", "paused", timeout=5000)

    # An edited value runs the node with it; Step then pauses at what it made ready.
    page.get_by_test_id("paused-inputs").fill('{"text": "EDITED"}')
    page.get_by_test_id("debug-step").click()
    runs.expect_node(page, "quiet", "succeeded")
    runs.expect_node(page, "out", "paused")
    expect(page.get_by_test_id("paused-panel")).to_have_attribute("data-node-id", "out")
    expect(page.get_by_test_id("paused-inputs-error")).to_have_count(0)
    assert paused_inputs(page) == {"value": "edited?"}

    page.get_by_test_id("debug-continue").click()
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("debug-continue")).to_have_count(0)
    expect(page.get_by_test_id("paused-panel")).to_have_count(0)
    expect(page.get_by_test_id("run-output-out")).to_contain_text("edited?")
    expect(page.get_by_test_id("summary-edited")).to_have_text("inputs edited at breakpoint (quiet)")

    run_id = runs.run_status(page).get_attribute("data-run-id") or ""
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id(f"history-edited-{run_id}")).to_have_text("inputs edited at breakpoint (quiet)")


def test_stop_cancels_a_paused_run(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, debug_spec("stopped"))
    runs.open_pipeline(page, server.base, pipeline)
    toggle(page, "loud")
    run_id = runs.start_run(page, q="Hello")
    runs.expect_node(page, "loud", "paused")
    expect(page.get_by_test_id("debug-step")).to_be_visible()
    page.get_by_test_id("stop-button").click()
    runs.wait_run(page, "cancelled", timeout=3000)
    for node_id in ("loud", "quiet", "out"):
        runs.expect_node(page, node_id, "cancelled", timeout=5000)
    expect(page.get_by_test_id("paused-panel")).to_have_count(0)
    runs.wait_stored(server.data_dir, run_id, "cancelled")
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id(f"history-item-{run_id}")).to_be_visible()
    expect(page.get_by_test_id(f"history-edited-{run_id}")).to_have_count(0)
