"""Saving: autosave, reload, server restart, two tabs on one pipeline, the pipelines list, `/`."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from . import ui
from .conftest import Servers
from .server import Server


def _build(page: Page) -> None:
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.shout", 340, 100)
    ui.wire(page, "source", "text", "shout", "text")
    ui.select_node(page, "shout")
    rev = ui.revision(page)
    page.get_by_test_id("param-suffix").fill("??")
    ui.wait_saved(page, after=rev)


def _assert_intact(page: Page) -> None:
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "2")
    expect(ui.edges(page)).to_have_count(1)
    ui.select_node(page, "shout")
    expect(page.get_by_test_id("param-suffix")).to_have_value("??")


def test_reload_and_server_restart_lose_nothing(servers: Servers, server: Server, page: Page) -> None:
    pipeline = ui.new_empty_pipeline(page, server.base)
    page.get_by_test_id("pipeline-name").fill("Kept across restarts")
    _build(page)
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Kept across restarts")
    where = page.evaluate("window.__patchwire.rf.getNode('shout').position")

    page.reload()
    ui.wait_ready(page)
    _assert_intact(page)
    assert page.evaluate("window.__patchwire.rf.getNode('shout').position") == where

    restarted = servers.restart()
    ui.open_app(page, restarted.base)  # `/` opens the most recently edited pipeline
    assert ui.pipeline_id(page) == pipeline
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Kept across restarts")
    _assert_intact(page)


def test_two_tabs_do_not_silently_overwrite_each_other(server: Server, context: BrowserContext, page: Page) -> None:
    pipeline = ui.new_empty_pipeline(page, server.base)
    ui.drop(page, "e2e.source", 40, 100)
    ui.wait_saved(page)
    other = context.new_page()
    ui.open_app(other, server.base, f"/pipelines/{pipeline}")
    expect(other.get_by_test_id("canvas")).to_have_attribute("data-nodes", "1")

    rev = ui.revision(page)
    ui.drop(page, "e2e.shout", 340, 100)  # the first tab saves first
    ui.wait_saved(page, after=rev)
    ui.drop(other, "e2e.double", 340, 300)  # the second tab's save is refused, with a clear message
    status = other.get_by_test_id("save-status")
    expect(status).to_have_attribute("data-state", "error")
    expect(other.get_by_test_id("save-error")).to_contain_text("changed this pipeline in another tab")

    other.get_by_test_id("conflict-load").click()  # take their version: the first tab's shout, not our double
    expect(status).to_have_attribute("data-state", "saved")
    expect(ui.node(other, "shout")).to_be_visible()
    expect(ui.node(other, "double")).to_have_count(0)

    ui.drop(other, "e2e.double", 340, 300)  # now the second tab is current; the first one is behind
    ui.wait_saved(other)
    ui.select_node(page, "shout")
    page.get_by_test_id("param-suffix").fill("x")
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "error")
    page.get_by_test_id("conflict-overwrite").click()  # or keep ours
    ui.wait_saved(page)
    spec = page.request.get(f"{server.base}/api/pipelines/{pipeline}/spec").json()
    assert sorted(n["id"] for n in spec["nodes"]) == ["shout", "source"]
    other.close()


def test_pipelines_list_open_rename_duplicate_delete(server: Server, page: Page) -> None:
    pipeline = ui.new_empty_pipeline(page, server.base)
    rev = ui.revision(page)
    page.get_by_test_id("pipeline-name").fill("Listed pipeline")
    ui.wait_saved(page, after=rev)
    page.get_by_test_id("pipelines-link").click()
    page.wait_for_url("**/pipelines")
    listing = page.get_by_test_id("pipelines-list")
    expect(listing).to_have_attribute("data-loaded", "true")
    row = page.get_by_test_id(f"pipeline-row-{pipeline}")
    expect(row).to_contain_text("Listed pipeline")

    page.get_by_test_id(f"rename-{pipeline}").click()
    page.get_by_test_id("rename-input").fill("Renamed pipeline")
    page.get_by_test_id("rename-save").click()
    expect(row).to_contain_text("Renamed pipeline")

    count = int(listing.get_attribute("data-count") or 0)
    page.get_by_test_id(f"duplicate-{pipeline}").click()
    expect(listing).to_have_attribute("data-count", str(count + 1))
    expect(listing).to_contain_text("Renamed pipeline (copy)")

    page.get_by_test_id(f"delete-{pipeline}").click()
    page.get_by_test_id("confirm-delete").click()
    expect(row).to_have_count(0)
    expect(listing).to_have_attribute("data-count", str(count))

    copy = listing.get_by_text("Renamed pipeline (copy)")
    copy.click()
    page.wait_for_url("**/pipelines/*")
    ui.wait_ready(page)
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Renamed pipeline (copy)")

    page.goto(f"{server.base}/pipelines/{pipeline}")  # a deleted pipeline says so (no traceback)
    ui.wait_ready(page)
    expect(page.get_by_test_id("load-error")).to_contain_text("No pipeline")
