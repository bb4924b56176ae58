"""Building a pipeline on the canvas: drop, wire, refuse bad wires, edit params, see issues come and go."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from . import ui
from .server import Server


def test_build_wire_and_edit_a_pipeline(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    pane = ui.pane(page).bounding_box()
    assert pane is not None

    # Three components dropped from the palette land exactly where they were dropped.
    for component, node_id, x in (("e2e.source", "source", 40), ("e2e.shout", "shout", 340), ("io.output", "output", 640)):
        ui.drop(page, component, x, 120)
        expect(ui.node(page, node_id)).to_be_visible()
        box = ui.node_box(page, node_id)
        assert abs(box["x"] - (pane["x"] + x)) <= 1 and abs(box["y"] - (pane["y"] + 120)) <= 1
    expect(ui.node(page, "shout")).to_have_attribute("data-status", "idle")
    expect(ui.handle(page, "shout", "text", "target")).to_have_count(1)
    expect(ui.handle(page, "shout", "text", "source")).to_have_count(1)

    # An unconnected required input is an issue, pinned to its node and listed in the panel.
    expect(page.get_by_test_id("node-issues-shout")).to_be_visible()
    panel = page.get_by_test_id("issues-panel")
    expect(panel).to_contain_text("required input `text` is not connected")

    # Wire output -> input; compatible ports light up while dragging, the issue goes away.
    ui.wire(page, "source", "text", "shout", "text")
    expect(page.get_by_test_id("node-issues-shout")).to_have_count(0)
    expect(panel).not_to_contain_text("`shout`")
    ui.wire(page, "shout", "text", "output", "value")

    # An incompatible wire (int -> str) is refused in the browser: no `valid` mark, no edge ...
    classes = ui.drag_wire(page, "source", "number", "shout", "text")
    assert " valid" not in f" {classes} " and "pw-dim" in classes
    expect(ui.edges(page)).to_have_count(2)
    # ... and again by the server, with a message naming both types.
    page.evaluate("window.__patchwire.connect({source: 'source', sourceHandle: 'number', target: 'shout', "
                  "targetHandle: 'text'})")
    expect(ui.toast(page, "Cannot connect `source.number` (int) to `shout.text` (str).")).to_be_visible()
    expect(ui.edges(page)).to_have_count(2)

    # The inspector: a form from the params schema; bad values show pydantic's message and stay out of the spec.
    ui.select_node(page, "shout")
    times = page.get_by_test_id("param-times")
    times.fill("9")
    expect(page.get_by_test_id("error-param-times")).to_contain_text("less than or equal to 5")
    times.fill("3")
    expect(page.get_by_test_id("error-param-times")).to_have_count(0)
    page.get_by_test_id("param-mode").select_option("lower")
    page.get_by_test_id("param-loud").click()
    expect(page.get_by_test_id("param-loud")).to_have_attribute("data-state", "checked")
    expect(page.get_by_test_id("param-template")).to_have_js_property("tagName", "TEXTAREA")
    options = page.get_by_test_id("param-options")
    options.fill('{"a": ')
    expect(page.get_by_test_id("error-param-options")).to_contain_text("Not valid JSON")
    options.fill('{"a": 1}')
    expect(page.get_by_test_id("error-param-options")).to_have_count(0)
    expect(page.get_by_test_id("param-model")).to_have_attribute("list", "models-model")
    page.locator("[data-testid=policy-section] summary").click()
    page.get_by_test_id("policy-retries").fill("2")
    rev = ui.revision(page)
    page.get_by_test_id("policy-on_error").select_option("continue")
    ui.wait_saved(page, after=rev)

    # Everything is in the saved spec (read back through the API a script would use).
    spec = page.request.get(f"{server.base}/api/pipelines/{ui.pipeline_id(page)}/spec").json()
    shout = next(n for n in spec["nodes"] if n["id"] == "shout")
    assert shout["params"] == {"times": 3, "mode": "lower", "loud": True, "options": {"a": 1}}
    assert shout["policy"]["retries"] == 2 and shout["policy"]["on_error"] == "continue"
    assert len(spec["edges"]) == 2


def test_dynamic_ports_follow_params_and_delete(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.split", 360, 100)
    expect(ui.handle(page, "split", "left", "source")).to_have_count(1)
    ui.wire(page, "source", "text", "split", "text")

    # Editing the `routes` param changes the node's output handles.
    ui.select_node(page, "split")
    page.get_by_test_id("param-routes").fill('["yes", "no", "maybe"]')
    expect(ui.handle(page, "split", "maybe", "source")).to_have_count(1)
    expect(ui.handle(page, "split", "left", "source")).to_have_count(0)

    # Delete: a selected wire with the keyboard, then the node with the toolbar button.
    page.locator(".react-flow__edge").first.click(force=True)
    page.keyboard.press("Delete")
    expect(ui.edges(page)).to_have_count(0)
    ui.select_node(page, "split")
    page.get_by_test_id("delete-button").click()
    expect(ui.node(page, "split")).to_have_count(0)
    ui.select_node(page, "source")
    page.keyboard.press("Backspace")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "0")


def test_rename_a_node_keeps_its_wires(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.shout", 340, 100)
    ui.wire(page, "source", "text", "shout", "text")
    ui.select_node(page, "shout")
    node_id = page.get_by_test_id("node-id")
    node_id.fill("9 lives")
    node_id.press("Enter")
    expect(page.get_by_test_id("error-node-id")).to_contain_text("`9 lives` is not a valid node id")
    node_id.fill("source")
    node_id.press("Enter")
    expect(page.get_by_test_id("error-node-id")).to_contain_text("already taken")
    node_id.fill("loud")
    node_id.press("Enter")
    expect(ui.node(page, "loud")).to_be_visible()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "loud")
    expect(ui.handle(page, "loud", "text", "target")).to_have_count(1)
    expect(page.locator('.react-flow__edge[data-id="source.text->loud.text"]')).to_have_count(1)
    page.get_by_test_id("undo-button").click()
    expect(ui.node(page, "shout")).to_be_visible()
