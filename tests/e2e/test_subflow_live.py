"""Watching inside flow nodes while a run goes: an open subflow's inner nodes show their live statuses (a map's
items folded per inner node, with counts), and a loop node shows its iteration. Slow nodes are `e2e.gate`s the
test opens, so every live state is awaited (Playwright's auto-waiting), never slept for. A run opened from
History shows the inside of its flow nodes the same way, from its stored records."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from . import runs, ui
from .server import Server

# The subflow: shout the text, wait at the gate, pass it on.
BODY_NODES = {"text": ("io.input", {}), "shout": ("e2e.shout", {"suffix": "!"}),
              "gate": ("e2e.gate", {}), "text_out": ("io.output", {})}
BODY_EDGES = [("text", "value", "shout", "text"), ("shout", "text", "gate", "text"), ("gate", "text", "text_out", "value")]


def _pipeline(name: str, flow: tuple[str, dict], gate: dict, query_type: str = "string") -> tuple[dict, str]:
    """q -> f (a flow node running `body`) -> out; the gate's key is unique to this test."""
    key = uuid.uuid4().hex
    port = "items" if flow[0] == "flow.map" else "text"
    data = runs.spec(name, {"q": ("io.input", {"name": "q", "type": query_type}), "f": flow,
                            "out": ("io.output", {})},
                     [("q", "value", "f", port), ("f", "text_out", "out", "value")])
    body = runs.spec("body", {**BODY_NODES, "gate": ("e2e.gate", {"key": key, **gate})}, BODY_EDGES)
    return {**data, "subflows": {"body": body}}, key


def _open_gate(server: Server, key: str) -> None:
    gates = Path(server.data_dir) / "e2e-gates"
    gates.mkdir(exist_ok=True)
    (gates / key).write_text("open")


def _open_flow_node(page: Page) -> None:
    ui.node(page, "f").locator(".pw-node-head").dblclick()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("f: body")
    expect(ui.node(page, "gate")).to_be_visible()


def test_a_subflow_opened_during_its_run_shows_its_inner_nodes_live(server: Server, page: Page) -> None:
    data, key = _pipeline("live-subflow", ("flow.subflow", {"subflow": "body"}), {})
    runs.open_pipeline(page, server.base, runs.create_pipeline(server.data_dir, data))
    runs.start_run(page, q="hi")
    runs.expect_node(page, "f", "running")

    _open_flow_node(page)
    runs.expect_node(page, "shout", "succeeded")
    runs.expect_node(page, "gate", "running")  # same attributes and styling as a top-level node
    expect(page.get_by_test_id("node-elapsed-gate")).to_be_visible()
    expect(page.get_by_test_id("inner-counts-gate")).to_have_count(0)  # one sub-run: no counts
    runs.expect_node(page, "text_out", "queued")  # not reached yet, like a top-level node

    _open_gate(server, key)
    runs.expect_node(page, "gate", "succeeded")
    runs.expect_node(page, "text_out", "succeeded")
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("node-latency-gate")).to_be_visible()
    runs.expect_node(page, "gate", "succeeded")  # after the run, the sub-run's final statuses stay

    page.get_by_test_id("subflow-crumb-0").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_have_count(0)
    runs.expect_node(page, "f", "succeeded")


def test_an_open_maps_inner_nodes_show_their_items_folded_with_counts(server: Server, page: Page) -> None:
    data, key = _pipeline("live-map", ("flow.map", {"subflow": "body", "over": "text", "concurrency": 3}), {}, "json")
    runs.open_pipeline(page, server.base, runs.create_pipeline(server.data_dir, data))
    _open_flow_node(page)  # opened before the run: the statuses arrive as it goes
    runs.start_run(page, q='["a", "b", "c"]')
    runs.expect_node(page, "gate", "running")
    counts = page.get_by_test_id("inner-counts-gate")
    expect(counts).to_have_text("3 running · 0 done")
    expect(page.get_by_test_id("inner-counts-shout")).to_have_text("3 done")
    runs.expect_node(page, "shout", "succeeded")

    _open_gate(server, key)
    runs.wait_run(page, "succeeded")
    runs.expect_node(page, "gate", "succeeded")
    expect(counts).to_have_text("3 done")
    expect(counts).to_have_attribute("data-failed", "0")

    page.get_by_test_id("subflow-crumb-0").click()
    expect(page.get_by_test_id("map-progress-f")).to_have_text("3/3")


def test_a_loop_node_shows_its_iteration_and_its_body_the_iteration_running(server: Server, page: Page) -> None:
    data, key = _pipeline("live-loop", ("flow.loop", {"subflow": "body", "max_iterations": 3,
                                                      "carry": {"text_out": "text"}}), {"once": True})
    runs.open_pipeline(page, server.base, runs.create_pipeline(server.data_dir, data))
    runs.start_run(page, q="hi")
    progress = page.get_by_test_id("loop-progress-f")
    expect(progress).to_have_text("iteration 1/3")
    expect(progress).to_have_attribute("data-max", "3")
    _open_gate(server, key)  # each opening lets one iteration's gate through
    expect(progress).to_have_text("iteration 2/3")

    _open_flow_node(page)  # inside: the node the current iteration waits at, and the runs before it
    runs.expect_node(page, "gate", "running")
    expect(page.get_by_test_id("inner-counts-gate")).to_have_text("1 running · 1 done")
    _open_gate(server, key)
    expect(page.get_by_test_id("inner-counts-gate")).to_have_text("1 running · 2 done")
    _open_gate(server, key)
    runs.wait_run(page, "succeeded")
    runs.expect_node(page, "gate", "succeeded")
    expect(page.get_by_test_id("inner-counts-gate")).to_have_text("3 done")

    page.get_by_test_id("subflow-crumb-0").click()
    expect(progress).to_have_text("iteration 3/3")  # the final count, after the run
    ui.select_node(page, "f")
    expect(page.get_by_test_id("loop-iteration-f-3")).to_be_visible()


# A map of `item` over q: `bad` goes to a failing node (that item fails, the map skips it); the others run `lp`,
# a loop of 3 over `body` (shout the text).
ITEM = runs.spec("item", {"text": ("io.input", {}), "split": ("e2e.split", {"routes": ["ok", "bad"]}),
                          "lp": ("flow.loop", {"subflow": "body", "max_iterations": 3}), "fail": ("e2e.fail", {}),
                          "text_out": ("io.output", {})},
                 [("text", "value", "split", "text"), ("split", "ok", "lp", "text"), ("split", "bad", "fail", "text"),
                  ("lp", "text_out", "text_out", "value")])
LOOP_BODY = runs.spec("body", {"text": ("io.input", {}), "shout": ("e2e.shout", {"suffix": "!"}),
                               "text_out": ("io.output", {})},
                      [("text", "value", "shout", "text"), ("shout", "text", "text_out", "value")])


def _counts(page: Page, node_id: str, text: str) -> None:
    expect(page.get_by_test_id(f"inner-counts-{node_id}")).to_have_text(text)


def test_a_run_opened_from_history_shows_its_maps_items_folded_and_a_nested_loops_count(server: Server,
                                                                                         page: Page) -> None:
    data = runs.spec("history-map", {"q": ("io.input", {"name": "q", "type": "json"}),
                                     "m": ("flow.map", {"subflow": "item", "over": "text", "on_item_error": "skip"}),
                                     "out": ("io.output", {})},
                     [("q", "value", "m", "items"), ("m", "text_out", "out", "value")])
    data["subflows"] = {"item": ITEM, "body": LOOP_BODY}
    pipeline = runs.create_pipeline(server.data_dir, data)
    run_id = runs.record_run(server.data_dir, pipeline, data, {"q": ["a", "bad", "c"]})  # not run by the editor
    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("tab-history").click()
    page.get_by_test_id(f"history-item-{run_id}").click()
    expect(page.get_by_test_id("viewing-banner")).to_have_attribute("data-run-id", run_id)
    expect(page.get_by_test_id("map-progress-m")).to_have_text("3/3 · 1 failed")

    ui.node(page, "m").locator(".pw-node-head").dblclick()  # the map's items, folded per inner node
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("m: item")
    runs.expect_node(page, "fail", "failed")
    _counts(page, "fail", "0 done · 1 failed")
    runs.expect_node(page, "split", "succeeded")
    _counts(page, "split", "3 done")
    expect(page.get_by_test_id("node-latency-split")).to_be_visible()
    runs.expect_node(page, "lp", "succeeded")
    _counts(page, "lp", "2 done")  # skipped in the failed item
    expect(page.get_by_test_id("loop-progress-lp")).to_have_text("iteration 3/3")  # the count it ran

    ui.node(page, "lp").locator(".pw-node-head").dblclick()  # one level deeper: 2 items x 3 iterations
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("lp: body")
    runs.expect_node(page, "shout", "succeeded")
    _counts(page, "shout", "6 done")
    page.get_by_test_id("subflow-crumb-1").click()
    runs.expect_node(page, "fail", "failed")
    _counts(page, "lp", "2 done")

    # One item from the inspector: its own inner nodes, and below it only that item's runs.
    page.get_by_test_id("subflow-crumb-0").click()
    ui.select_node(page, "m")
    page.get_by_test_id("map-item-m-0").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("m · item 0")
    runs.expect_node(page, "fail", "skipped")
    expect(page.get_by_test_id("breakpoints-item-only")).to_have_count(0)  # an old run's canvas is read-only
    runs.expect_node(page, "lp", "succeeded")
    expect(page.get_by_test_id("loop-progress-lp")).to_have_text("iteration 3/3")
    expect(page.get_by_test_id("inner-counts-lp")).to_have_count(0)
    ui.node(page, "lp").locator(".pw-node-head").dblclick()
    runs.expect_node(page, "shout", "succeeded")
    _counts(page, "shout", "3 done")
