"""Readable and quick to build with: a fit view that keeps text readable, quick-connect, sticky notes."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from editor import graph
from runtime import NodeSpec, is_assignable
from runtime.registry import default_registry

from . import ui
from .server import PLUGINS, Server

READABLE_PX = 9.0  # 12 px titles at the lowest fit zoom (0.75)

SMALLEST_TITLE_JS = """zoom => Math.min(...[...document.querySelectorAll('.react-flow__node-pipeline .pw-title')]
    .map(t => parseFloat(getComputedStyle(t).fontSize) * zoom))"""


def _open_template(page: Page, base: str, name: str) -> None:
    ui.open_app(page, base)
    ui.create_from_dialog(page, f"template-{name}")


def _assert_readable(page: Page) -> float:
    page.wait_for_function(ui.FITTED_JS)
    zoom = page.evaluate(ui.ZOOM_JS)
    smallest = page.evaluate(SMALLEST_TITLE_JS, zoom)
    assert smallest >= READABLE_PX, f"node titles are {smallest:.1f} px on screen at zoom {zoom:.2f}"
    return zoom


def _on_screen(page: Page, node_id: str) -> bool:
    canvas, box = page.get_by_test_id("canvas").bounding_box(), ui.node_box(page, node_id)
    assert canvas is not None
    return (canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
            and canvas["y"] <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"])


def test_the_rag_template_opens_with_readable_titles_and_shows_its_start(server: Server, page: Page) -> None:
    _open_template(page, server.base, "rag_review")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "13")
    _assert_readable(page)
    assert _on_screen(page, "query"), "the pipeline's input is not on screen"
    expect(page.locator(".react-flow__minimap")).to_be_visible()

    # The Fit view buttons (toolbar and React Flow's controls) and auto-layout keep that readable zoom.
    page.mouse.move(*_pane_point(page, 0.5, 0.5))
    page.mouse.wheel(0, 2000)  # zoom far out
    page.wait_for_function(f"() => ({ui.ZOOM_JS})() < 0.5")
    page.get_by_test_id("fit-view-button").click()
    page.wait_for_function(f"() => ({ui.ZOOM_JS})() >= 0.75")
    _assert_readable(page)
    page.mouse.move(*_pane_point(page, 0.5, 0.5))
    page.mouse.wheel(0, 2000)
    page.wait_for_function(f"() => ({ui.ZOOM_JS})() < 0.5")
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_function(f"() => ({ui.ZOOM_JS})() >= 0.75")

    revision = ui.revision(page)
    page.get_by_test_id("layout-button").click()
    ui.wait_saved(page, after=revision)
    zoom = _assert_readable(page)
    # Compact layers: the gap between a node and the next layer is sized to the nodes (<= 64 flow px).
    query, normalize = ui.node_box(page, "query"), ui.node_box(page, "normalize")
    gap = (normalize["x"] - (query["x"] + query["width"])) / zoom
    assert 0 < gap <= 70, f"layers are {gap:.0f} px apart"

    # The nodes beyond the view are one pan away (what ui.select_node does for the other tests).
    ui.select_node(page, "review_task")
    _assert_readable(page)


def _pane_point(page: Page, fx: float, fy: float) -> tuple[float, float]:
    box = page.get_by_test_id("canvas").bounding_box()
    assert box is not None
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def _expected_for_text_output() -> set[str]:
    """Every installed component with an input that `e2e.source.text` may feed (the runtime's own rule)."""
    registry = default_registry(PLUGINS.split(":"))
    dragged = graph.node_ports(NodeSpec(id="s", component="e2e.source"), registry).outputs["text"].type
    expected = set()
    for info in registry:
        ports = graph.node_ports(NodeSpec(id="x", component=info.id, version=info.version), registry)
        if ports is not None and any(is_assignable(dragged, p.type) for p in ports.inputs.values()):
            expected.add(info.id)
    return expected


def _drop_wire_on_pane(page: Page, node_id: str, port: str, kind: str, dx: float, dy: float) -> tuple[float, float]:
    box = ui.handle(page, node_id, port, kind).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=12)
    page.mouse.up()
    return x + dx, y + dy


def test_quick_connect_from_a_dropped_wire_offers_only_what_fits_and_wires_it(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    drop_x, drop_y = _drop_wire_on_pane(page, "source", "text", "source", 260, 60)

    search = page.get_by_test_id("quick-connect")
    expect(search).to_be_focused()
    menu = page.get_by_test_id("quick-connect-menu")
    expect(menu).to_have_attribute("data-ready", "true")
    expect(menu).to_have_attribute("data-link", "source.text")
    offered = set(page.locator("[data-testid^=quick-connect-item-]").evaluate_all(
        "els => els.map(e => e.dataset.testid.slice('quick-connect-item-'.length))"))
    expected = _expected_for_text_output()
    assert offered == expected, f"offered but incompatible: {offered - expected}; missing: {expected - offered}"
    assert {"e2e.shout", "io.output"} <= offered and not offered & {"e2e.double", "e2e.source"}
    expect(page.get_by_test_id("quick-connect-item-e2e.double")).to_have_count(0)  # takes a number, not text

    search.fill("shout")
    expect(page.locator("[data-testid^=quick-connect-item-]")).to_have_count(1)
    page.get_by_test_id("quick-connect-item-e2e.shout").click()
    expect(menu).to_have_count(0)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "2")
    expect(ui.edges(page)).to_have_count(1)
    expect(page.locator('.react-flow__edge[data-id="source.text->shout.text"]')).to_have_count(1)
    box = ui.node_box(page, "shout")
    assert abs(box["x"] - drop_x) < 4 and box["y"] < drop_y < box["y"] + box["height"], (box, drop_x, drop_y)

    page.get_by_test_id("undo-button").click()  # node and wire were one edit
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "1")
    expect(ui.edges(page)).to_have_count(0)

    # A wire dropped onto a node (not the pane) opens nothing; Escape closes the palette.
    source = ui.node_box(page, "source")
    handle = ui.handle(page, "source", "text", "source").bounding_box()
    assert handle is not None
    _drop_wire_on_pane(page, "source", "text", "source", source["x"] + 30 - handle["x"], 0)
    expect(ui.node(page, "source")).to_be_visible()
    expect(menu).to_have_count(0)
    _drop_wire_on_pane(page, "source", "text", "source", 120, 300)
    expect(page.get_by_test_id("quick-connect")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "1")


def test_slash_opens_the_search_unfiltered_at_the_cursor(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    x, y = _pane_point(page, 0.4, 0.4)
    page.mouse.click(x, y)
    page.keyboard.press("/")
    menu = page.get_by_test_id("quick-connect-menu")
    expect(menu).to_have_attribute("data-ready", "true")
    expect(menu).to_have_attribute("data-link", "")
    expect(page.get_by_test_id("quick-connect-item-e2e.double")).to_be_visible()
    expect(page.get_by_test_id("quick-connect-item-e2e.source")).to_be_visible()
    page.get_by_test_id("quick-connect").fill("e2e double")
    expect(page.locator("[data-testid^=quick-connect-item-]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "1")
    box = ui.node_box(page, "double")
    assert abs(box["x"] - x) < 4 and abs(box["y"] - y) < 40, (box, x, y)

    page.keyboard.press("/")
    expect(page.get_by_test_id("quick-connect")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)


def _edit_note(page: Page, note_id: str, text: str) -> None:
    page.get_by_test_id(f"sticky-{note_id}").dblclick()
    editor = page.get_by_test_id(f"sticky-editor-{note_id}")
    expect(editor).to_be_focused()
    editor.fill(text)
    editor.press("Control+Enter")
    expect(editor).to_have_count(0)


def test_a_sticky_note_survives_reload_and_export_import(server: Server, page: Page, tmp_path: Path) -> None:
    ui.new_empty_pipeline(page, server.base)
    page.get_by_test_id("pipeline-name").fill("Noted")
    ui.drop(page, "e2e.source", 40, 300)
    page.get_by_test_id("add-note-button").click()
    note = page.get_by_test_id("sticky-1")
    expect(note).to_be_visible()
    _edit_note(page, "1", "## Plan\n\nUse **bold** words\n- one\n- two\n\n<script>alert(1)</script>")
    text = page.get_by_test_id("sticky-text-1")
    expect(text.locator("h4")).to_have_text("Plan")
    expect(text.locator("strong")).to_have_text("bold")
    expect(text.locator("li")).to_have_count(2)
    expect(text.locator("script")).to_have_count(0)  # Markdown, never HTML
    expect(text).to_contain_text("<script>alert(1)</script>")
    ui.wait_saved(page)
    # Ctrl+Enter saved the note; it did not also run the pipeline (the canvas's own Ctrl+Enter).
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "idle")
    expect(page.get_by_test_id("run-problems")).to_have_count(0)
    page.get_by_test_id("sticky-1").dblclick()
    page.get_by_test_id("sticky-editor-1").fill("thrown away")
    page.keyboard.press("Escape")  # drops the edit
    expect(text.locator("h4")).to_have_text("Plan")

    # Resizable: drag the corner of the selected note.
    note.click()
    before = note.bounding_box()
    corner = page.locator('.react-flow__node[data-id="note:1"] .react-flow__resize-control.handle.bottom.right')
    cbox = corner.bounding_box()
    assert before is not None and cbox is not None
    revision = ui.revision(page)
    page.mouse.move(cbox["x"] + cbox["width"] / 2, cbox["y"] + cbox["height"] / 2)
    page.mouse.down()
    page.mouse.move(cbox["x"] + 80, cbox["y"] + 50, steps=8)
    page.mouse.up()
    ui.wait_saved(page, after=revision)
    after = note.bounding_box()
    assert after is not None and after["width"] > before["width"] + 40 and after["height"] > before["height"] + 25
    zoom_before = page.evaluate(ui.ZOOM_JS)

    page.reload()
    ui.wait_ready(page)
    expect(page.get_by_test_id("sticky-text-1").locator("strong")).to_have_text("bold")
    page.wait_for_function(ui.FITTED_JS)
    reloaded = page.get_by_test_id("sticky-1").bounding_box()
    # In flow units: the fit after a reload may choose another zoom than the one the note was resized at.
    assert reloaded is not None
    assert abs(reloaded["width"] / page.evaluate(ui.ZOOM_JS) - after["width"] / zoom_before) < 3

    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    saved = json.loads(exported.read_text())["layout"]["note:1"]
    assert saved["kind"] == "note" and saved["text"].startswith("## Plan") and saved["width"] > 240

    before_id = ui.pipeline_id(page)
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id("import-spec").locator("input[type=file]").set_input_files(str(exported))
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(before_id))
    ui.wait_ready(page)
    expect(page.get_by_test_id("sticky-text-1").locator("h4")).to_have_text("Plan")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "1")  # a note is not a node


def test_notes_are_added_and_deleted_as_undoable_edits(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    page.get_by_test_id("add-note-button").click()
    note = page.get_by_test_id("sticky-1")
    expect(note).to_be_visible()
    note.click()
    page.keyboard.press("Delete")
    expect(note).to_have_count(0)
    page.get_by_test_id("undo-button").click()
    expect(note).to_be_visible()
    page.get_by_test_id("undo-button").click()
    expect(note).to_have_count(0)
    page.get_by_test_id("redo-button").click()
    expect(note).to_be_visible()
