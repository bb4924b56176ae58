"""After a run: the timeline with its critical path, "Run from here" reusing upstream outputs, pinned outputs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from . import runs, ui
from .server import Server


def branches_spec() -> dict:
    """q feeds a slow branch and a fast one: the slow one is the critical path."""
    return runs.spec("branches", {
        "q": ("io.input", {"name": "q"}), "slow": ("e2e.sleep", {"seconds": 0.6}), "fast": ("e2e.sleep", {"seconds": 0.2}),
        "loud": ("e2e.shout", {"suffix": "!"}), "out_slow": ("io.output", {}), "out_fast": ("io.output", {})},
        [("q", "value", "slow", "text"), ("q", "value", "fast", "text"), ("slow", "text", "loud", "text"),
         ("loud", "text", "out_slow", "value"), ("fast", "text", "out_fast", "value")])


def test_the_timeline_shows_when_nodes_ran_and_the_critical_path(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, branches_spec())
    runs.open_pipeline(page, server.base, pipeline)
    runs.start_run(page, q="hi")
    runs.wait_run(page, "succeeded")
    page.get_by_test_id("tab-timeline").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-critical-path")).to_have_text("Critical path: q → slow → loud → out_slow")
    for node_id in ("q", "slow", "loud", "out_slow"):
        expect(timeline.get_by_test_id(f"timeline-row-{node_id}")).to_have_attribute("data-critical", "true")
    for node_id in ("fast", "out_fast"):
        expect(timeline.get_by_test_id(f"timeline-row-{node_id}")).to_have_attribute("data-critical", "false")
    totals = timeline.get_by_test_id("timeline-totals").inner_text()
    assert "sum of node latencies" in totals and "parallelism saved" in totals
    saved = totals.split("parallelism saved ")[1].split(" ")[0]
    assert float(saved) >= 150, totals  # the 200 ms branch ran alongside the 600 ms one


def chain_spec() -> dict:
    return runs.spec("chain", {
        "q": ("io.input", {"name": "q"}), "first": ("e2e.shout", {"suffix": "?"}), "slow": ("e2e.sleep", {"seconds": 0.4}),
        "last": ("e2e.shout", {"suffix": "!"}), "out": ("io.output", {})},
        [("q", "value", "first", "text"), ("first", "text", "slow", "text"), ("slow", "text", "last", "text"),
         ("last", "text", "out", "value")])


def test_run_from_here_reruns_the_edited_node_and_reuses_what_is_upstream(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, chain_spec())
    runs.open_pipeline(page, server.base, pipeline)
    first = runs.start_run(page, q="hi")
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("HI?!")

    ui.select_node(page, "last")
    page.get_by_test_id("param-suffix").fill("!!!")
    ui.wait_saved(page)
    page.get_by_test_id("run-from-here").click()
    expect(runs.run_status(page)).not_to_have_attribute("data-run-id", first)
    runs.wait_run(page, "succeeded")
    for node_id in ("q", "first", "slow"):
        runs.expect_node(page, node_id, "cached", timeout=1000)
        expect(ui.node(page, node_id)).to_have_attribute("data-cache", "reused")
    runs.expect_node(page, "last", "succeeded", timeout=1000)
    runs.expect_node(page, "out", "succeeded", timeout=1000)
    expect(page.get_by_test_id("run-output-out")).to_contain_text("HI?!!!")
    expect(page.get_by_test_id("run-from-note")).to_contain_text("Run from last")
    ui.select_node(page, "slow")
    expect(page.get_by_test_id("node-cache")).to_contain_text("reused from the last run")


def test_a_pinned_output_is_used_marked_and_never_exported(server: Server, page: Page, tmp_path: Path) -> None:
    pipeline = runs.create_pipeline(server.data_dir, chain_spec())
    runs.open_pipeline(page, server.base, pipeline)
    ui.select_node(page, "slow")
    page.get_by_test_id("pin-json-toggle").click()
    page.get_by_test_id("pin-json").fill('{"text": 42}')
    page.get_by_test_id("pin-json-apply").click()
    expect(page.get_by_test_id("pin-error")).to_have_text("Output `slow.text`: Input should be a valid string.")
    page.get_by_test_id("pin-json").fill('{"text": "mocked upstream"}')
    page.get_by_test_id("pin-json-apply").click()
    expect(page.get_by_test_id("node-pin-slow")).to_be_visible()
    expect(page.get_by_test_id("pin-origin")).to_contain_text("Pinned output (typed)")

    runs.start_run(page, q="hi")
    runs.wait_run(page, "succeeded")
    expect(ui.node(page, "slow")).to_have_attribute("data-status", "cached")
    expect(ui.node(page, "slow")).to_have_attribute("data-cache", "pinned")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("MOCKED UPSTREAM!")

    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    exported = tmp_path / "chain.json"
    download.value.save_as(exported)
    text = exported.read_text()
    assert "mocked upstream" not in text and "pin" not in text.lower()

    page.get_by_test_id("node-id").fill("slow2")  # the pin follows a rename of its node; undo brings it back
    page.get_by_test_id("node-id").press("Enter")
    expect(page.get_by_test_id("node-pin-slow2")).to_be_visible()
    expect(page.get_by_test_id("node-pin-slow")).to_have_count(0)
    page.get_by_test_id("undo-button").click()
    expect(page.get_by_test_id("node-pin-slow")).to_be_visible()
    ui.select_node(page, "slow")
    page.get_by_test_id("unpin").click()
    expect(page.get_by_test_id("node-pin-slow")).to_have_count(0)
    runs.start_run(page, q="hi")
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("HI?!")


def test_a_pin_set_in_another_tab_is_used_and_shown_by_the_next_run(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, chain_spec())
    runs.open_pipeline(page, server.base, pipeline)
    other = page.context.new_page()
    try:
        runs.open_pipeline(other, server.base, pipeline)
        ui.select_node(other, "slow")
        other.get_by_test_id("pin-json-toggle").click()
        other.get_by_test_id("pin-json").fill('{"text": "from the other tab"}')
        other.get_by_test_id("pin-json-apply").click()
        expect(other.get_by_test_id("node-pin-slow")).to_be_visible()
    finally:
        other.close()
    runs.start_run(page, q="hi")  # this tab had no pins: the run reads the table all the same
    runs.wait_run(page, "succeeded")
    expect(ui.node(page, "slow")).to_have_attribute("data-cache", "pinned")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("FROM THE OTHER TAB!")
    expect(page.get_by_test_id("node-pin-slow")).to_be_visible()  # and the canvas marks what the run used
