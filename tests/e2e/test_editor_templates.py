"""New pipelines from templates and imported spec files; the palette's search and failed plugins."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from editor.upload_limit import upload_limit_bytes
from runtime.store import pipelines as store

from . import runs, ui
from .server import ROOT, Server

RAG = ROOT / "templates" / "rag_review.json"


def _open_new_dialog(page: Page) -> None:
    page.get_by_test_id("new-pipeline-button").click()
    expect(page.get_by_test_id("new-pipeline-dialog")).to_be_visible()


def _import(page: Page, path: Path) -> None:
    _open_new_dialog(page)
    page.get_by_test_id("import-spec").locator("input[type=file]").set_input_files(str(path))


def test_new_pipeline_from_the_rag_template(server: Server, page: Page) -> None:
    template = json.loads(RAG.read_text())
    ui.open_app(page, server.base)
    before = ui.pipeline_id(page)
    _open_new_dialog(page)
    page.get_by_test_id("template-rag_review").click()
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(before))
    ui.wait_ready(page)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", str(len(template["nodes"])))
    expect(ui.edges(page)).to_have_count(len(template["edges"]))
    expect(page.get_by_test_id("pipeline-name")).to_have_value(template["name"])
    for node in template["nodes"]:
        expect(ui.node(page, node["id"])).to_be_attached()


def test_a_double_click_in_the_new_pipeline_dialog_creates_one_pipeline(server: Server, page: Page) -> None:
    ui.open_app(page, server.base)
    before = ui.pipeline_id(page)
    with runs.in_data_dir(server.data_dir):
        existing = store.pipeline_count()
    _open_new_dialog(page)
    page.get_by_test_id("new-empty").dblclick()
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(before))
    ui.wait_ready(page)  # the second click's event was handled before the new page's load
    expect(page.get_by_test_id("new-pipeline-dialog")).to_have_count(0)
    with runs.in_data_dir(server.data_dir):
        created = store.pipeline_count() - existing
        store.get_pipeline(ui.pipeline_id(page))  # the one shown
    assert created == 1, f"one double click created {created} pipelines"


def test_export_then_import_a_spec(server: Server, page: Page, tmp_path: Path) -> None:
    ui.new_empty_pipeline(page, server.base)
    page.get_by_test_id("pipeline-name").fill("Round trip")
    ui.drop(page, "e2e.source", 40, 100)
    ui.drop(page, "e2e.shout", 340, 100)
    ui.wire(page, "source", "text", "shout", "text")
    ui.wait_saved(page)
    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.name == "Round_trip.json"
    spec = json.loads(exported.read_text())
    assert spec["name"] == "Round trip" and [n["id"] for n in spec["nodes"]] == ["source", "shout"]

    before = ui.pipeline_id(page)
    _import(page, exported)
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(before))
    ui.wait_ready(page)
    expect(ui.toast(page, "Imported `Round trip`")).to_be_visible()
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Round trip")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "2")
    expect(ui.edges(page)).to_have_count(1)

    # Files that are not specs are refused with what is wrong, never a traceback, and never run.
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "x", "nodes": [{"id": "9lives", "component": "e2e.source"}]}))
    _import(page, broken)
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("`broken.json` was not imported")
    expect(errors).to_contain_text("Spec field `nodes.0.id`")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("name: [unclosed\nnodes: []\n")
    page.get_by_test_id("import-spec").locator("input[type=file]").set_input_files(str(bad_yaml))
    expect(errors).to_contain_text("is not valid YAML")
    # Over every upload cap: the server refuses it (413) before any handler runs, and the dialog says so.
    with (tmp_path / "big.json").open("wb") as big:
        big.truncate(upload_limit_bytes() + 1)
    page.get_by_test_id("import-spec").locator("input[type=file]").set_input_files(str(tmp_path / "big.json"))
    expect(errors).to_contain_text("`big.json` was not imported")
    expect(errors).to_contain_text(f"`big.json` is {(upload_limit_bytes() + 1) / 1e6:.1f} MB; imports are limited to 5 MB")
    assert ui.pipeline_id(page) != before


def test_palette_search_and_a_plugin_that_failed_to_load(server: Server, page: Page) -> None:
    ui.new_empty_pipeline(page, server.base)
    palette = page.get_by_test_id("palette")
    expect(palette.get_by_test_id("palette-item-e2e.shout")).to_be_visible()
    expect(palette.get_by_test_id("palette-item-io.input")).to_be_visible()
    failed = palette.locator("[data-testid^=palette-problem-]").filter(has_text="broken_plugin.py")
    expect(failed).to_contain_text("the e2e broken plugin fails on purpose")
    expect(failed).to_have_attribute("aria-disabled", "true")

    search = page.get_by_test_id("palette-search")
    search.fill("shout")
    expect(palette.get_by_test_id("palette-item-io.input")).to_have_count(0)
    expect(palette.get_by_test_id("palette-item-e2e.shout")).to_be_visible()
    search.fill("")
    expect(palette.get_by_test_id("palette-item-io.input")).to_be_visible()

    # Without dragging: double-click an item, or focus it and press Enter.
    canvas = page.get_by_test_id("canvas")
    palette.get_by_test_id("palette-item-e2e.source").dblclick()
    expect(canvas).to_have_attribute("data-nodes", "1")
    palette.get_by_test_id("palette-item-e2e.double").focus()
    page.keyboard.press("Enter")
    expect(canvas).to_have_attribute("data-nodes", "2")
    expect(ui.node(page, "double")).to_be_in_viewport()
