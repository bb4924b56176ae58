"""Watching inside flow nodes while a run goes: an open subflow's inner nodes show their live statuses (a map's
items folded per inner node, with counts), and a loop node shows its iteration. Slow nodes are `e2e.gate`s the
test opens, so every live state is awaited (Playwright's auto-waiting), never slept for."""

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
