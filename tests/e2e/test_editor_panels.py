"""The issues panel, the validate button, the inspector across nodes, the model picker, named versions."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from . import ui
from .server import Server


def test_issues_panel_validate_and_inspector_across_nodes(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.shout", 40, 60)
    ui.drop(page, "e2e.shout", 40, 320)
    panel = page.get_by_test_id("issues-panel")
    expect(panel).to_have_attribute("data-errors", "2")

    page.get_by_test_id("validate-button").click()
    expect(ui.toast(page, "2 errors: see the issues panel")).to_be_visible()

    # Clicking an issue selects its node (and the inspector shows it).
    page.locator("[data-testid^=issue-][data-node-id=shout_2]").click()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "shout_2")
    expect(page.locator('.react-flow__node[data-id="shout_2"]')).to_have_class(re.compile(r"\bselected\b"))

    rev = ui.revision(page)
    page.get_by_test_id("param-suffix").fill("A")
    ui.wait_saved(page, after=rev)
    ui.select_node(page, "shout")
    expect(page.get_by_test_id("param-suffix")).to_have_value("!")
    ui.select_node(page, "shout_2")
    expect(page.get_by_test_id("param-suffix")).to_have_value("A")

    # The model picker offers the catalog's usable models; free text stays allowed.
    page.get_by_test_id("param-model").focus()
    expect(page.locator("#models-model option[value='local/extractive']")).to_be_attached(timeout=60_000)
    rev = ui.revision(page)
    page.get_by_test_id("param-model").fill("my-provider/my-model")
    ui.wait_saved(page, after=rev)
    spec = page.request.get(f"{server.base}/api/pipelines/{ui.pipeline_id(page)}/spec").json()
    assert spec["nodes"][1]["params"] == {"suffix": "A", "model": "my-provider/my-model"}


def test_named_versions_save_and_restore(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 60)
    ui.wait_saved(page)
    page.get_by_test_id("versions-button").click()
    page.get_by_test_id("version-label").fill("just the source")
    page.get_by_test_id("save-version").click()
    versions = page.get_by_test_id("versions-list")
    expect(versions).to_contain_text("just the source")
    page.keyboard.press("Escape")

    ui.drop(page, "e2e.shout", 340, 60)
    ui.wait_saved(page)
    page.get_by_test_id("versions-button").click()
    versions.get_by_role("button", name="Restore").first.click()
    canvas = page.get_by_test_id("canvas")
    expect(canvas).to_have_attribute("data-nodes", "1")
    expect(ui.toast(page, "Restored `just the source`")).to_be_visible()
    page.get_by_test_id("undo-button").click()  # restoring is one undoable edit
    expect(canvas).to_have_attribute("data-nodes", "2")
