"""Breakpoints inside a subflow opened on the canvas: F9 on an inner node stores it under its path (never on a
top-level namesake), the red dot shows at its own level, the run pauses before the inner node (`paused` on the
open subflow's canvas, its inputs editable), and Step, Continue and Stop decide it; a rename takes it along, and
undo and redo too."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from editor import breakpoints

from . import runs, ui
from .server import Server
from .test_debugger import paused_inputs


def _pipeline(name: str) -> dict:
    """q -> shout ("!") -> f (runs `body`: text -> shout ("?") -> text_out) -> out: a `shout` at both levels."""
    data = runs.spec(name, {"q": ("io.input", {"name": "q"}), "shout": ("e2e.shout", {"suffix": "!"}),
                            "f": ("flow.subflow", {"subflow": "body"}), "out": ("io.output", {})},
                     [("q", "value", "shout", "text"), ("shout", "text", "f", "text"), ("f", "text_out", "out", "value")])
    body = runs.spec("body", {"text": ("io.input", {}), "shout": ("e2e.shout", {"suffix": "?"}),
                              "text_out": ("io.output", {})},
                     [("text", "value", "shout", "text"), ("shout", "text", "text_out", "value")])
    return {**data, "subflows": {"body": body}}


def _open_f(page: Page) -> None:
    ui.node(page, "f").locator(".pw-node-head").dblclick()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("f: body")
    expect(ui.node(page, "text_out")).to_be_visible()


def _back_to_the_pipeline(page: Page) -> None:
    page.get_by_test_id("subflow-crumb-0").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_have_count(0)


def test_a_breakpoint_on_a_subflows_node_pauses_it_there_and_step_continue_and_stop_decide_it(
        server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, _pipeline("debug-inner"))
    runs.open_pipeline(page, server.base, pipeline)
    _open_f(page)
    ui.select_node(page, "shout")
    page.keyboard.press("F9")  # the inner `shout`, not the pipeline's own
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "true")
    with runs.in_data_dir(server.data_dir):
        assert breakpoints.list_breakpoints(pipeline) == ["f/shout"]
    _back_to_the_pipeline(page)
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "false")
    _open_f(page)
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "true")

    runs.start_run(page, q="hi")
    runs.expect_node(page, "shout", "paused")
    runs.expect_node(page, "text", "succeeded", timeout=5000)
    expect(page.get_by_test_id("debug-paused")).to_have_attribute("data-node-id", "f/0/shout")
    assert paused_inputs(page) == {"text": "HI!"}
    page.get_by_test_id("paused-inputs").fill('{"text": "yo"}')
    page.get_by_test_id("debug-step").click()  # runs it, then pauses at what it made ready in the subflow
    runs.expect_node(page, "shout", "succeeded")
    runs.expect_node(page, "text_out", "paused")
    expect(page.get_by_test_id("paused-panel")).to_have_attribute("data-node-id", "f/0/text_out")
    page.get_by_test_id("debug-continue").click()
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("YO?")
    expect(page.get_by_test_id("summary-edited")).to_have_text("inputs edited at breakpoint (f/0/shout)")

    _back_to_the_pipeline(page)  # the pipeline's own `shout` has no breakpoint: the next run pauses inside only
    runs.start_run(page, q="again")
    runs.expect_node(page, "shout", "succeeded")
    runs.expect_node(page, "f", "running")
    expect(page.get_by_test_id("debug-paused")).to_have_attribute("data-node-id", "f/0/shout")
    page.get_by_test_id("stop-button").click()
    runs.wait_run(page, "cancelled", timeout=3000)
    expect(page.get_by_test_id("paused-panel")).to_have_count(0)

    # Renaming the inner node (its subflow open) takes the breakpoint along to its new path.
    _open_f(page)
    ui.select_node(page, "shout")
    page.get_by_test_id("node-id").fill("yell")
    page.get_by_test_id("node-id").press("Enter")
    expect(page.get_by_test_id("breakpoint-yell")).to_have_attribute("data-on", "true")
    with runs.in_data_dir(server.data_dir):
        assert breakpoints.list_breakpoints(pipeline) == ["f/yell"]

    # Undo puts the name back and the breakpoint with it; redo renames both again.
    page.get_by_test_id("undo-button").click()
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "true")
    with runs.in_data_dir(server.data_dir):
        assert breakpoints.list_breakpoints(pipeline) == ["f/shout"]
    page.get_by_test_id("redo-button").click()
    expect(page.get_by_test_id("breakpoint-yell")).to_have_attribute("data-on", "true")


def test_a_breakpoint_set_in_an_item_of_a_map_pauses_that_item_only(server: Server, page: Page) -> None:
    data = runs.spec("debug-item", {"q": ("io.input", {"name": "q", "type": "json"}),
                                    "m": ("flow.map", {"subflow": "body", "over": "text", "concurrency": 3}),
                                    "out": ("io.output", {})},
                     [("q", "value", "m", "items"), ("m", "text_out", "out", "value")])
    data["subflows"] = {"body": runs.spec("body", {"text": ("io.input", {}), "shout": ("e2e.shout", {"suffix": "?"}),
                                                   "text_out": ("io.output", {})},
                                          [("text", "value", "shout", "text"), ("shout", "text", "text_out", "value")])}
    pipeline = runs.create_pipeline(server.data_dir, data)
    runs.open_pipeline(page, server.base, pipeline)
    runs.start_run(page, q='["a", "b", "c"]')
    runs.wait_run(page, "succeeded")

    ui.select_node(page, "m")  # its inspector lists the items: item 1 opens on the subflow's canvas
    page.get_by_test_id("map-item-m-1").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("item 1")
    only = page.get_by_test_id("breakpoints-item-only")
    expect(only).to_have_attribute("data-state", "unchecked")
    only.click()
    expect(only).to_have_attribute("data-state", "checked")
    ui.select_node(page, "shout")
    page.keyboard.press("F9")
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "true")
    with runs.in_data_dir(server.data_dir):
        assert breakpoints.list_breakpoints(pipeline) == ["m/1/shout"]  # not `m/shout`: every item
    only.click()  # every item's breakpoints at this level: none set
    expect(page.get_by_test_id("breakpoint-shout")).to_have_attribute("data-on", "false")

    _back_to_the_pipeline(page)
    runs.start_run(page, q='["x", "y", "z"]')
    expect(page.get_by_test_id("debug-paused")).to_have_attribute("data-node-id", "m/1/shout")
    assert paused_inputs(page) == {"text": "y"}
    page.get_by_test_id("debug-continue").click()
    runs.wait_run(page, "succeeded")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("X?")
    expect(page.get_by_test_id("run-output-out")).to_contain_text("Z?")
