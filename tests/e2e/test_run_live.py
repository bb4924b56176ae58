"""Running pipelines from the editor: live statuses on the canvas, the inspector, Stop, reloads, several runs."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import BrowserContext, Page, expect

from . import runs, ui
from .server import ROOT, Server

RAG = json.loads((ROOT / "templates" / "rag_review.json").read_text())
ON_TOPIC = "How do I run a pipeline from the command line?"
TAKEN = ["query", "normalize", "retrieve", "prompt", "generate", "groundedness", "length", "gate", "answer", "score",
         "length_ok"]
NOT_TAKEN = ["review", "review_task"]
LATENCY = re.compile(r"^\d+(\.\d+)? (ms|s)$")


def slow_spec(seconds: float, name: str = "slow") -> dict:
    return runs.spec(name, {"q": ("io.input", {"name": "q"}), "shout": ("e2e.shout", {}),
                            "wait": ("e2e.sleep", {"seconds": seconds}), "out": ("io.output", {})},
                     [("q", "value", "shout", "text"), ("shout", "text", "wait", "text"), ("wait", "text", "out", "value")])


def test_run_the_rag_template_and_watch_every_node_finish(server: Server, page: Page) -> None:
    ui.open_app(page, server.base)
    ui.create_from_dialog(page, "template-rag_review")
    expect(runs.run_status(page)).to_have_attribute("data-status", "idle")
    expect(runs.run_status(page)).to_have_text("Not run yet")  # no " in <latency>" without a run
    runs.watch_statuses(page)

    page.get_by_test_id("run-input-query").fill(ON_TOPIC)
    page.keyboard.press("Control+Enter")  # runs from the field, like the Run button
    runs.wait_run(page, "succeeded")
    for node_id in TAKEN:
        runs.expect_node(page, node_id, "succeeded", timeout=1000)
        expect(page.get_by_test_id(f"node-latency-{node_id}")).to_have_text(LATENCY)
    for node_id in NOT_TAKEN:
        runs.expect_node(page, node_id, "skipped", timeout=1000)
        expect(page.get_by_test_id(f"node-latency-{node_id}")).to_have_count(0)
    seen = runs.seen_statuses(page)
    assert seen["generate"] == ["idle", "queued", "running", "succeeded"], seen["generate"]
    assert seen["review"] == ["idle", "queued", "skipped"], seen["review"]
    assert "?run=" in page.url

    # Edges that carried data are highlighted, the branch not taken is dimmed.
    expect(page.locator('[data-testid="rf__edge-gate.grounded->answer.value"] path.pw-edge-fired')).to_have_count(1)
    expect(page.locator('[data-testid="rf__edge-gate.needs_review->review.draft_answer"] path.pw-edge-dim')
           ).to_have_count(1)

    # The run summary: status, latency, tokens, the answer.
    expect(page.get_by_test_id("summary-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("summary-tokens")).not_to_have_text("0")
    expect(page.get_by_test_id("run-output-answer")).to_contain_text("patchwire")

    # The generate node: the exact messages sent to the model, the model, tokens in and out.
    ui.select_node(page, "generate")
    inspector = page.get_by_test_id("inspector")
    expect(inspector.get_by_test_id("node-run-status")).to_have_attribute("data-status", "succeeded")
    expect(inspector.get_by_test_id("node-model")).to_have_text("local/extractive")
    assert int(inspector.get_by_test_id("node-tokens-in").inner_text()) > 50
    assert int(inspector.get_by_test_id("node-tokens-out").inner_text()) > 0
    messages = inspector.get_by_test_id("model-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_have_attribute("data-role", "system")
    expect(messages.nth(1)).to_contain_text(f"Question: {ON_TOPIC}")
    expect(messages.nth(1)).to_contain_text("Context:")

    # The retrieve node: its documents as cards with scores.
    ui.select_node(page, "retrieve")
    cards = inspector.get_by_test_id("doc-card")
    expect(cards.first).to_be_visible()
    assert float(cards.first.get_attribute("data-score") or 0) > 0.3

    # A skipped node says why.
    ui.select_node(page, "review")
    expect(inspector.get_by_test_id("node-skip-reason")).to_contain_text("did not fire")


def test_stop_cancels_a_slow_run(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, slow_spec(60))
    runs.open_pipeline(page, server.base, pipeline)
    expect(page.get_by_test_id("stop-button")).to_be_disabled()
    runs.start_run(page, q="hello")
    runs.expect_node(page, "wait", "running")
    expect(page.get_by_test_id("node-elapsed-wait")).to_contain_text("ms")
    runs.expect_node(page, "shout", "succeeded")
    started = time.monotonic()
    page.get_by_test_id("stop-button").click()
    runs.wait_run(page, "cancelled", timeout=1000)
    assert time.monotonic() - started < 1.0
    runs.expect_node(page, "wait", "cancelled", timeout=1000)
    runs.expect_node(page, "out", "cancelled", timeout=1000)
    expect(page.get_by_test_id("run-button")).to_be_enabled()


def test_reload_mid_run_and_a_second_tab_still_show_its_progress(server: Server, page: Page,
                                                                 context: BrowserContext) -> None:
    pipeline = runs.create_pipeline(server.data_dir, slow_spec(5))
    runs.open_pipeline(page, server.base, pipeline)
    run_id = runs.start_run(page, q="hello")
    runs.expect_node(page, "wait", "running")
    page.reload()
    ui.wait_ready(page)
    expect(runs.run_status(page)).to_have_attribute("data-run-id", run_id)
    expect(runs.run_status(page)).to_have_attribute("data-status", "running")
    runs.expect_node(page, "shout", "succeeded", timeout=1000)
    runs.expect_node(page, "wait", "running", timeout=1000)

    other = context.new_page()  # another tab on the same pipeline joins the run in flight
    runs.open_pipeline(other, server.base, pipeline)
    expect(runs.run_status(other)).to_have_attribute("data-run-id", run_id)
    runs.expect_node(other, "wait", "running", timeout=1000)

    for tab in (page, other):
        runs.wait_run(tab, "succeeded")
        runs.expect_node(tab, "out", "succeeded", timeout=1000)
        expect(tab.get_by_test_id("node-latency-wait")).to_contain_text("s")
    other.close()


def test_two_runs_in_two_tabs_never_mix_their_statuses(server: Server, page: Page, context: BrowserContext) -> None:
    ok = runs.create_pipeline(server.data_dir, slow_spec(3, "two-tabs ok"))
    failing = runs.create_pipeline(server.data_dir, runs.spec(
        "two-tabs failing", {"q": ("io.input", {"name": "q"}), "boom": ("e2e.fail", {"message": "second tab"}),
                             "out": ("io.output", {})},
        [("q", "value", "boom", "text"), ("boom", "text", "out", "value")]))
    other = context.new_page()
    runs.open_pipeline(page, server.base, ok)
    runs.open_pipeline(other, server.base, failing)
    first = runs.start_run(page, q="a")
    second = runs.start_run(other, q="b")
    assert first != second
    runs.wait_run(other, "failed")
    runs.expect_node(page, "wait", "running", timeout=1000)  # the first run is not touched by the second
    runs.wait_run(page, "succeeded")
    runs.expect_node(page, "out", "succeeded", timeout=1000)
    runs.expect_node(other, "boom", "failed", timeout=1000)
    expect(runs.run_status(page)).to_have_attribute("data-run-id", first)
    expect(runs.run_status(other)).to_have_attribute("data-run-id", second)
    expect(ui.node(page, "boom")).to_have_count(0)
    other.close()


def test_a_failing_node_shows_its_error_and_retries_in_the_inspector(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, runs.spec(
        "failing", {"q": ("io.input", {"name": "q"}), "flaky": ("e2e.fail", {"message": "flaky", "fail_attempts": 1}),
                    "boom": ("e2e.fail", {"message": "the e2e component failed on purpose"}),
                    "out": ("io.output", {})},
        [("q", "value", "flaky", "text"), ("flaky", "text", "boom", "text"), ("boom", "text", "out", "value")]))
    with runs.in_data_dir(server.data_dir):  # the flaky node may retry twice
        from runtime.store import pipelines

        record = pipelines.get_pipeline(pipeline)
        data = record.spec
        data["nodes"][1]["policy"] = {"retries": 2, "retry_backoff_s": 0.05}
        pipelines.save_pipeline(pipeline, data, expected_revision=record.revision)
    runs.open_pipeline(page, server.base, pipeline)
    runs.start_run(page, q="x")
    runs.wait_run(page, "failed")
    runs.expect_node(page, "flaky", "succeeded", timeout=1000)
    runs.expect_node(page, "boom", "failed", timeout=1000)
    runs.expect_node(page, "out", "cancelled", timeout=1000)
    expect(page.get_by_test_id("run-error")).to_contain_text("Node `boom` failed: the e2e component failed on purpose")

    ui.select_node(page, "boom")
    error = page.get_by_test_id("node-error")
    expect(error).to_contain_text("ValueError")
    expect(page.get_by_test_id("node-error-message")).to_have_text("the e2e component failed on purpose (attempt 1)")
    page.get_by_test_id("node-traceback").locator("summary").click()
    expect(page.get_by_test_id("node-traceback")).to_contain_text("Traceback (most recent call last)")
    expect(page.get_by_test_id("node-traceback")).to_contain_text("plugin_components.py")

    ui.select_node(page, "flaky")
    expect(page.get_by_test_id("node-run-attempts")).to_have_text("2")
    expect(page.get_by_test_id("node-retries")).to_contain_text("ValueError: flaky (attempt 1)")
    expect(page.get_by_test_id("node-outputs")).to_contain_text('"x"')


def test_streamed_tokens_show_live_in_the_inspector(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, runs.spec(
        "stream", {"q": ("io.input", {"name": "q"}), "writer": ("e2e.stream", {"words": 12, "delay": 0.15}),
                   "out": ("io.output", {}), "long": ("e2e.stream", {"words": 400, "delay": 0}),
                   "long_out": ("io.output", {})},
        [("q", "value", "writer", "text"), ("writer", "text", "out", "value"), ("q", "value", "long", "text"),
         ("long", "text", "long_out", "value")]))
    runs.open_pipeline(page, server.base, pipeline)
    ui.select_node(page, "writer")
    runs.start_run(page, q="tok")
    streamed = page.get_by_test_id("node-streamed")
    expect(streamed).to_contain_text("tok-1")
    assert "tok-11" not in streamed.inner_text()  # seen while the node was still writing
    expect(page.get_by_test_id("node-run-status")).to_have_attribute("data-status", "running")
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("node-outputs")).to_contain_text("tok-11")

    # A long value is cut in the browser; "Show full values" fetches it whole from the run record.
    ui.select_node(page, "long")
    outputs = page.get_by_test_id("node-outputs")
    expect(outputs).to_contain_text("chars)")
    expect(outputs).not_to_contain_text("tok-399")
    page.get_by_test_id("show-full").click()
    expect(page.get_by_test_id("show-full")).to_have_count(0)
    outputs.get_by_test_id("json-more").click()
    expect(outputs).to_contain_text("tok-398 tok-399")


def test_bad_inputs_or_an_invalid_pipeline_run_nothing_and_say_why(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, runs.spec(
        "invalid", {"q": ("io.input", {"name": "q"}), "n": ("io.input", {"name": "n", "type": "integer"}),
                    "shout": ("e2e.shout", {}), "dangling": ("e2e.shout", {}), "out": ("io.output", {})},
        [("q", "value", "shout", "text"), ("shout", "text", "out", "value")]))
    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("run-input-n").fill("1")
    page.get_by_test_id("run-button").click()
    problems = page.get_by_test_id("run-problems")
    expect(problems).to_contain_text("`dangling`.text: ")
    expect(problems).to_contain_text("required input `text` is not connected")
    expect(problems).to_contain_text("Input `q` is required: type a value in its field")
    expect(runs.run_status(page)).to_have_attribute("data-status", "idle")
    expect(ui.toast(page, "Nothing ran")).to_be_visible()
    expect(ui.node(page, "shout")).to_have_attribute("data-status", "idle")
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id("history-list")).to_have_attribute("data-count", "0")
