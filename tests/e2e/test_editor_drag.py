"""Dragging on the canvas: positions live in React Flow's store alone until the drop (assets/flow_canvas.jsx), the
press's selection goes to Python on release, and a server edit landing mid-drag leaves the node where it is."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from . import ui
from .server import Server


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
    zoom = page.evaluate(ui.ZOOM_JS)

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
    page.wait_for_function(ui.FITTED_JS)
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
    page.wait_for_function(ui.FITTED_JS)
    assert _flow_position(page, "shout") == dropped
    expect(canvas).to_have_attribute("data-edges", "1")
