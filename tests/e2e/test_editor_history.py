"""Undo/redo of every graph edit, copy/paste/duplicate, multi-select and auto-layout."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from . import ui
from .server import Server


def _chain(page: Page) -> None:
    ui.drop(page, "e2e.source", 40, 260)
    ui.drop(page, "e2e.shout", 300, 40)
    ui.drop(page, "io.output", 560, 300)
    ui.wire(page, "source", "text", "shout", "text")
    ui.wire(page, "shout", "text", "output", "value")


def test_undo_redo_every_edit(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    _chain(page)
    canvas = page.get_by_test_id("canvas")
    undo, redo = page.get_by_test_id("undo-button"), page.get_by_test_id("redo-button")
    expect(redo).to_be_disabled()

    # A param edit is one undo step, whatever the number of keystrokes.
    ui.select_node(page, "shout")
    suffix = page.get_by_test_id("param-suffix")
    suffix.click()
    suffix.press("End")
    suffix.press_sequentially("?!?", delay=350)  # slower than the debounce: three edits reach the server
    expect(page.get_by_test_id("param-suffix")).to_have_value("!?!?")
    page.get_by_test_id("canvas").click(position={"x": 5, "y": 5})  # focus leaves the field: shortcuts act on the graph
    page.keyboard.press("Control+z")
    ui.select_node(page, "shout")
    expect(page.get_by_test_id("param-suffix")).to_have_value("!")

    undo.click()  # the last wire
    expect(ui.edges(page)).to_have_count(1)
    page.keyboard.press("Control+z")  # the first wire
    expect(ui.edges(page)).to_have_count(0)
    undo.click()  # the output node
    expect(canvas).to_have_attribute("data-nodes", "2")
    page.keyboard.press("Control+Shift+z")
    expect(canvas).to_have_attribute("data-nodes", "3")
    redo.click()
    expect(ui.edges(page)).to_have_count(1)
    page.keyboard.press("Control+y")
    expect(ui.edges(page)).to_have_count(2)

    # A node moved by dragging is an edit too.
    wrapper = page.locator('.react-flow__node[data-id="output"]')
    before = wrapper.evaluate("e => getComputedStyle(e).transform")
    head = ui.node(page, "output").locator(".pw-node-head").bounding_box()
    assert head is not None
    page.mouse.move(head["x"] + 20, head["y"] + 8)
    page.mouse.down()
    page.mouse.move(head["x"] + 120, head["y"] + 88, steps=8)
    page.mouse.up()
    expect(wrapper).not_to_have_css("transform", before)
    rev = ui.revision(page)
    page.keyboard.press("Control+z")
    expect(wrapper).to_have_css("transform", before)
    ui.wait_saved(page, after=rev)


def test_copy_paste_duplicate_multiselect_and_layout(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    _chain(page)
    canvas = page.get_by_test_id("canvas")

    # Ctrl+click adds to the selection; copy + paste brings both nodes and the wire between them.
    ui.select_node(page, "source")
    ui.node(page, "shout").locator(".pw-node-head").click(modifiers=["Control"])
    expect(page.get_by_test_id("inspector")).to_contain_text("2 nodes selected")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(canvas).to_have_attribute("data-nodes", "5")
    expect(ui.node(page, "source_2")).to_be_visible()
    expect(ui.node(page, "shout_2")).to_be_visible()
    expect(ui.edges(page)).to_have_count(3)

    # Duplicate (Ctrl+D) the pasted pair's selection; undo removes the whole paste in one step.
    page.keyboard.press("Control+d")
    expect(canvas).to_have_attribute("data-nodes", "7")
    page.keyboard.press("Control+z")
    expect(canvas).to_have_attribute("data-nodes", "5")
    page.keyboard.press("Control+z")
    expect(canvas).to_have_attribute("data-nodes", "3")

    # Auto-layout arranges the chain left to right and is saved.
    rev = ui.revision(page)
    page.get_by_test_id("layout-button").click()
    ui.wait_saved(page, after=rev)
    xs = [ui.node_box(page, n)["x"] for n in ("source", "shout", "output")]
    assert xs[0] < xs[1] < xs[2], xs
    ys = [ui.node_box(page, n)["y"] for n in ("source", "shout", "output")]
    assert max(ys) - min(ys) < 80, ys  # one row (the drops were 260 px apart)
    spec = page.request.get(f"{server.base}/api/pipelines/{ui.pipeline_id(page)}/spec").json()
    layout = spec["layout"]
    assert layout["source"]["x"] < layout["shout"]["x"] < layout["output"]["x"]
    rev = ui.revision(page)
    page.get_by_test_id("undo-button").click()  # layout is undoable as one step
    ui.wait_saved(page, after=rev)
    spec = page.request.get(f"{server.base}/api/pipelines/{ui.pipeline_id(page)}/spec").json()
    assert spec["layout"]["source"]["y"] - spec["layout"]["shout"]["y"] > 150
