"""Readable and quick to build with: a fit view that keeps text readable, quick-connect, sticky notes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from editor import graph
from runtime import NodeSpec, is_assignable
from runtime.registry import default_registry

from . import ui
from .server import PLUGINS, Server

READABLE_PX = 9.0  # 12 px titles at the lowest fit zoom (0.75)

ZOOM_JS = "() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a"
FITTED_JS = ("() => { const v = document.querySelector('.react-flow__viewport');"
             " return !!v && getComputedStyle(v).transform !== 'matrix(1, 0, 0, 1, 0, 0)'; }")
SMALLEST_TITLE_JS = """zoom => Math.min(...[...document.querySelectorAll('.react-flow__node-pipeline .pw-title')]
    .map(t => parseFloat(getComputedStyle(t).fontSize) * zoom))"""


def _open_template(page: Page, base: str, name: str) -> None:
    ui.open_app(page, base)
    ui.create_from_dialog(page, f"template-{name}")


def _assert_readable(page: Page) -> float:
    page.wait_for_function(FITTED_JS)
    zoom = page.evaluate(ZOOM_JS)
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
    page.wait_for_function(f"() => ({ZOOM_JS})() < 0.5")
    page.get_by_test_id("fit-view-button").click()
    page.wait_for_function(f"() => ({ZOOM_JS})() >= 0.75")
    _assert_readable(page)
    page.mouse.move(*_pane_point(page, 0.5, 0.5))
    page.mouse.wheel(0, 2000)
    page.wait_for_function(f"() => ({ZOOM_JS})() < 0.5")
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_function(f"() => ({ZOOM_JS})() >= 0.75")

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
    zoom_before = page.evaluate(ZOOM_JS)

    page.reload()
    ui.wait_ready(page)
    expect(page.get_by_test_id("sticky-text-1").locator("strong")).to_have_text("bold")
    page.wait_for_function(FITTED_JS)
    reloaded = page.get_by_test_id("sticky-1").bounding_box()
    # In flow units: the fit after a reload may choose another zoom than the one the note was resized at.
    assert reloaded is not None
    assert abs(reloaded["width"] / page.evaluate(ZOOM_JS) - after["width"] / zoom_before) < 3

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


def _flow_position(page: Page, node_id: str) -> dict[str, float]:
    return page.evaluate(f"window.__patchwire.rf.getNode('{node_id}').position")


def test_a_dragged_node_follows_the_pointer_and_drags_a_selected_note_along(server: Server, page: Page) -> None:
    # During a drag the positions live in React Flow's store only (assets/flow_canvas.jsx): the node must still
    # follow the pointer at every step, a note selected with it must move with it, and both moves are saved.
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 80, 120)
    page.get_by_test_id("add-note-button").click()
    expect(page.get_by_test_id("sticky-1")).to_be_visible()
    ui.wait_saved(page)
    source = page.locator(".react-flow__node-pipeline").first
    node_id = source.get_attribute("data-id") or ""
    zoom = page.evaluate(ZOOM_JS)

    box = ui.node_box(page, node_id)
    x, y = box["x"] + 30, box["y"] + 10
    revision = ui.revision(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 3, y + 2)  # starts the drag
    page.wait_for_function(f"() => document.querySelector('.react-flow__node[data-id=\"{node_id}\"]').classList.contains('dragging')")
    base = ui.node_box(page, node_id)
    for step in range(1, 6):
        page.mouse.move(x + 3 + step * 12, y + 2 + step * 6)
        page.wait_for_function(f"""() => {{ const r = document.querySelector('.react-flow__node[data-id="{node_id}"]')
            .getBoundingClientRect(); return Math.abs(r.x - {base['x'] + step * 12}) < 1.5
            && Math.abs(r.y - {base['y'] + step * 6}) < 1.5; }}""")  # drawn where the pointer is, at every step
    dropped = ui.node_box(page, node_id)
    page.mouse.up()
    ui.wait_saved(page, after=revision)
    assert ui.node_box(page, node_id) == dropped  # it stays where it was dropped
    moved = _flow_position(page, node_id)

    # The node and the note together: Ctrl+click adds the note to the selection, a drag of the node moves both.
    source.locator(".pw-node-head").click()
    page.get_by_test_id("sticky-1").click(modifiers=["Control"])
    node_before, note_before = _flow_position(page, node_id), _flow_position(page, "note:1")
    assert node_before == moved  # the first drag's position was kept
    box = ui.node_box(page, node_id)
    revision = ui.revision(page)
    page.mouse.move(box["x"] + 30, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 33, box["y"] + 12)  # starts the drag
    page.mouse.move(box["x"] + 33 + 50, box["y"] + 12 + 40, steps=5)
    page.mouse.up()
    ui.wait_saved(page, after=revision)
    node_after, note_after = _flow_position(page, node_id), _flow_position(page, "note:1")
    shift = (node_after["x"] - node_before["x"]) * zoom, (node_after["y"] - node_before["y"]) * zoom
    assert 48 <= shift[0] <= 54 and 38 <= shift[1] <= 43, shift
    assert abs(note_after["x"] - note_before["x"] - (node_after["x"] - node_before["x"])) < 0.5
    assert abs(note_after["y"] - note_before["y"] - (node_after["y"] - node_before["y"])) < 0.5

    page.reload()
    ui.wait_ready(page)
    page.wait_for_function(FITTED_JS)
    assert _flow_position(page, node_id) == node_after and _flow_position(page, "note:1") == note_after


def _press_and_move(page: Page, node_id: str) -> tuple[float, float]:
    """Press the node's head and move 42 px right and 21 down in seven moves, the pointer still pressed; where the
    press was."""
    head = ui.node(page, node_id).locator(".pw-node-head").bounding_box()
    assert head is not None
    x, y = head["x"] + 20, head["y"] + head["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(x + step * 6, y + step * 3)
    return x, y


def test_a_pressed_node_is_sent_as_the_selection_once_on_release(server: Server, page: Page) -> None:
    # React Flow selects a node on the press that starts its drag; the server's inspector update for it made the
    # drag's first frames its slowest, so the selection goes to Python on release (assets/selection_send.js).
    selects: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: selects.append(str(p)) if "on_select" in str(p) else None))
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.shout", 340, 100)
    ui.select_node(page, "source")  # a plain click: sent at once
    inspector = page.get_by_test_id("inspector")
    before = len(selects)

    x, y = _press_and_move(page, "shout")
    wrapper = page.locator('.react-flow__node[data-id="shout"]')
    expect(wrapper).to_have_class(re.compile(r"\bselected\b"))  # on the canvas, selected at once
    expect(wrapper).to_have_class(re.compile(r"\bdragging\b"))
    page.wait_for_timeout(400)  # ample for a sent selection to reach the server and the inspector to follow it
    assert selects[before:] == [], "the selection was sent while the pointer was still pressed"
    expect(inspector).to_have_attribute("data-node-id", "source")

    page.mouse.up()
    expect(inspector).to_have_attribute("data-node-id", "shout")
    sent = selects[before:]
    assert len(sent) == 1 and '"nodes":["shout"]' in sent[0], sent
    # The selection, kept in React Flow's store alone during the press, reached the canvas's own state with the
    # drop: the node stays selected when the state is next given to React Flow (the node's edited params).
    rev = ui.revision(page)
    page.get_by_test_id("param-mode").select_option("lower")
    ui.wait_saved(page, after=rev)
    expect(wrapper).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator('.react-flow__node[data-id="source"]')).not_to_have_class(re.compile(r"\bselected\b"))


def test_a_server_edit_landing_mid_drag_leaves_the_dragged_node_where_the_pointer_has_it(server: Server,
                                                                                           page: Page) -> None:
    # A drag's positions and the press's selection live in React Flow's store alone until the release
    # (assets/flow_canvas.jsx). A graph patch from the server landing mid-drag (here a wire, connected through the
    # server) gave React Flow the canvas's own nodes again: the node jumped back to where the drag began, unselected.
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.shout", 340, 100)
    ui.wait_saved(page)
    canvas = page.get_by_test_id("canvas")
    expect(canvas).to_have_attribute("data-edges", "0")
    start = ui.node_box(page, "shout")
    x, y = _press_and_move(page, "shout")
    wrapper = page.locator('.react-flow__node[data-id="shout"]')
    expect(wrapper).to_have_class(re.compile(r"\bdragging\b"))
    page.wait_for_function(f"""() => document.querySelector('.react-flow__node[data-id="shout"]')
        .getBoundingClientRect().x > {start['x'] + 20}""")
    held = ui.node_box(page, "shout")
    revision = ui.revision(page)

    page.evaluate("window.__patchwire.connect({source: 'source', sourceHandle: 'text', target: 'shout', "
                  "targetHandle: 'text'})")
    expect(canvas).to_have_attribute("data-edges", "1")  # the server's patch is in the canvas's state
    page.wait_for_timeout(150)  # and React Flow has been given it, a few frames on
    now = ui.node_box(page, "shout")
    assert abs(now["x"] - held["x"]) < 0.5 and abs(now["y"] - held["y"]) < 0.5, (start, held, now)
    expect(wrapper).to_have_class(re.compile(r"\bselected\b"))
    expect(wrapper).to_have_class(re.compile(r"\bdragging\b"))

    page.mouse.move(x + 60, y + 40)
    page.mouse.up()
    ui.wait_saved(page, after=revision)
    dropped = _flow_position(page, "shout")
    expect(wrapper).to_have_class(re.compile(r"\bselected\b"))
    page.reload()
    ui.wait_ready(page)
    page.wait_for_function(FITTED_JS)
    assert _flow_position(page, "shout") == dropped
    expect(canvas).to_have_attribute("data-edges", "1")
