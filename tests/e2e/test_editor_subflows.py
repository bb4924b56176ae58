"""Subflows in the editor: group and ungroup (undoable), open a flow node's subflow and come back, a map's live
progress and, after the run, one item's inner nodes on the subflow's canvas."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from . import runs, ui
from .server import ROOT, Server

MAP_SUMMARISE = json.loads((ROOT / "templates" / "map_summarise.json").read_text())
QUESTION = "How do I run a pipeline from the command line?"
# The first model call of a server imports litellm: 25 s measured on the loaded 2-core machine, so the run
# gets far more than the usual 30 s (a real hang still fails).
FIRST_MODEL_RUN_MS = 120_000


def _chain() -> dict:
    return runs.spec("chain", {"src": ("e2e.source", {}), "a": ("e2e.shout", {"suffix": "a"}),
                               "b": ("e2e.shout", {"suffix": "b"}), "c": ("e2e.shout", {"suffix": "c"}),
                               "out": ("io.output", {})},
                     [("src", "text", "a", "text"), ("a", "text", "b", "text"), ("b", "text", "c", "text"),
                      ("c", "text", "out", "value")])


def _stored(server: Server, pipeline_id: str) -> dict:
    from runtime.store import pipelines

    with runs.in_data_dir(server.data_dir):
        return pipelines.get_pipeline(pipeline_id).spec


def _select(page: Page, *node_ids: str) -> None:
    ui.select_node(page, node_ids[0])
    for node_id in node_ids[1:]:
        ui.node(page, node_id).locator(".pw-node-head").click(modifiers=["Control"])
    expect(page.get_by_test_id("inspector")).to_contain_text(f"{len(node_ids)} nodes selected")


def _counts(page: Page, nodes: int, wires: int) -> None:
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", str(nodes))
    expect(ui.edges(page)).to_have_count(wires)


def test_group_three_nodes_into_a_subflow_and_ungroup_with_undo_redo(server: Server, page: Page) -> None:
    pipeline_id = runs.create_pipeline(server.data_dir, _chain())
    runs.open_pipeline(page, server.base, pipeline_id)
    group, ungroup = page.get_by_test_id("group-button"), page.get_by_test_id("ungroup-button")
    expect(group).to_be_disabled()
    _select(page, "a", "b", "c")
    expect(ungroup).to_be_disabled()
    group.click()
    _counts(page, 3, 2)
    # The wires that crossed the selection's edge are the subflow node's typed ports.
    expect(ui.handle(page, "subflow", "text", "target")).to_have_count(1)
    expect(ui.handle(page, "subflow", "text_2", "source")).to_have_count(1)
    expect(ui.node(page, "subflow").locator('[data-port="text"][data-side="in"] .pw-port-type')).to_have_text("str")
    ui.wait_saved(page)
    stored = _stored(server, pipeline_id)
    assert [n["id"] for n in stored["nodes"]] == ["src", "subflow", "out"]
    assert {n["id"] for n in stored["subflows"]["group"]["nodes"]} == {"a", "b", "c", "text", "text_2"}

    page.keyboard.press("Control+z")
    _counts(page, 5, 4)
    page.keyboard.press("Control+Shift+z")
    _counts(page, 3, 2)

    ui.select_node(page, "subflow")
    expect(ungroup).to_be_enabled()
    ungroup.click()
    _counts(page, 5, 4)
    for node_id in ("a", "b", "c"):
        expect(ui.node(page, node_id)).to_be_visible()
    expect(page.locator('[data-testid="rf__edge-b.text->c.text"]')).to_have_count(1)
    page.get_by_test_id("undo-button").click()
    _counts(page, 3, 2)
    page.get_by_test_id("redo-button").click()
    _counts(page, 5, 4)
    ui.wait_saved(page)
    assert "subflows" not in _stored(server, pipeline_id) or _stored(server, pipeline_id)["subflows"] == {}

    # Ctrl+G groups too.
    _select(page, "a", "b")
    page.keyboard.press("Control+g")
    _counts(page, 4, 3)
    expect(ui.node(page, "subflow")).to_be_visible()


def test_open_a_map_nodes_subflow_edit_it_and_come_back_by_the_breadcrumbs(server: Server, page: Page) -> None:
    pipeline_id = runs.create_pipeline(server.data_dir, MAP_SUMMARISE)
    runs.open_pipeline(page, server.base, pipeline_id)
    top_nodes, top_wires = len(MAP_SUMMARISE["nodes"]), len(MAP_SUMMARISE["edges"])
    _counts(page, top_nodes, top_wires)
    expect(ui.handle(page, "map_docs", "summary", "source")).to_have_count(1)  # the subflow's output, as a list
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_have_count(0)

    ui.node(page, "map_docs").locator(".pw-node-head").dblclick()
    inner = MAP_SUMMARISE["subflows"]["summarise"]
    _counts(page, len(inner["nodes"]), len(inner["edges"]))
    crumbs = page.get_by_test_id("subflow-breadcrumbs")
    expect(crumbs).to_contain_text("map-summarise")
    expect(crumbs).to_contain_text("map_docs: summarise")
    expect(ui.node(page, "prompt")).to_be_visible()

    # Edits inside are checked like the pipeline's and saved into `subflows.summarise`.
    ui.select_node(page, "prompt")
    page.keyboard.press("Delete")
    _counts(page, len(inner["nodes"]) - 1, len(inner["edges"]) - 3)
    expect(page.get_by_test_id("node-issues-summarise")).to_be_visible()  # its prompt is not wired any more
    page.keyboard.press("Control+z")
    _counts(page, len(inner["nodes"]), len(inner["edges"]))
    expect(page.get_by_test_id("node-issues-summarise")).to_have_count(0)
    ui.select_node(page, "summarise")
    page.get_by_test_id("node-label").fill("Summarise it")
    expect(ui.node(page, "summarise")).to_contain_text("Summarise it")
    ui.wait_saved(page)
    stored = _stored(server, pipeline_id)
    assert next(n for n in stored["subflows"]["summarise"]["nodes"] if n["id"] == "summarise")["label"] == "Summarise it"
    from runtime import PipelineSpec

    assert PipelineSpec.model_validate(stored).nodes == PipelineSpec.model_validate(MAP_SUMMARISE).nodes

    page.get_by_test_id("subflow-crumb-0").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_have_count(0)
    _counts(page, top_nodes, top_wires)
    expect(ui.node(page, "map_docs")).to_be_visible()


def test_run_the_map_template_watch_its_progress_and_open_item_2(server: Server, page: Page) -> None:
    pipeline_id = runs.create_pipeline(server.data_dir, MAP_SUMMARISE)
    runs.open_pipeline(page, server.base, pipeline_id)
    page.evaluate("""() => { window.__progress = [];
      new MutationObserver(() => { const el = document.querySelector('[data-testid="map-progress-map_docs"]');
        const t = el && el.textContent; if (t && window.__progress[window.__progress.length - 1] !== t)
          window.__progress.push(t); }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    runs.start_run(page, query=QUESTION)
    runs.wait_run(page, "succeeded", timeout=FIRST_MODEL_RUN_MS)
    progress = page.get_by_test_id("map-progress-map_docs")
    expect(progress).to_have_text("4/4")
    expect(progress).to_have_attribute("data-failed", "0")
    seen = page.evaluate("() => window.__progress")
    assert seen and seen[-1] == "4/4" and all(t.endswith("/4") for t in seen), seen
    done = [int(t.split("/")[0]) for t in seen]
    assert done == sorted(done), seen

    # The map node's inspector lists its items; item 2 opens on the subflow's canvas with its inner nodes' data.
    ui.select_node(page, "map_docs")
    items = page.get_by_test_id("flow-items")
    for index in range(4):
        expect(items.get_by_test_id(f"map-item-map_docs-{index}")).to_have_attribute("data-status", "succeeded")
    item = page.get_by_test_id("map-item-map_docs-2")
    preview = item.locator(".pw-item-preview").inner_text()
    assert preview.strip(), "item 2 shows a preview of its summary"
    item.click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_contain_text("map_docs · item 2")
    inner = MAP_SUMMARISE["subflows"]["summarise"]
    _counts(page, len(inner["nodes"]), len(inner["edges"]))
    for node_id in ("document", "question", "prompt", "summarise", "summary"):
        runs.expect_node(page, node_id, "succeeded", timeout=5000)
    ui.select_node(page, "summarise")
    run_section = page.get_by_test_id("node-run")
    expect(run_section).to_have_attribute("data-shown", "true")
    expect(page.get_by_test_id("node-inputs")).to_contain_text("Summarise what this document says")
    expect(page.get_by_test_id("node-outputs")).to_contain_text(preview.strip()[:20])

    page.get_by_test_id("subflow-crumb-0").click()
    expect(page.get_by_test_id("subflow-breadcrumbs")).to_have_count(0)
    runs.expect_node(page, "map_docs", "succeeded", timeout=5000)

    # The timeline lists the items under the map node.
    page.get_by_test_id("tab-timeline").click()
    expect(page.get_by_test_id("timeline-row-map_docs")).to_be_visible()
    expect(page.get_by_test_id("timeline-row-map_docs/2")).to_have_attribute("data-depth", "1")
    expect(page.get_by_test_id("timeline-row-map_docs/2")).to_contain_text("item 2")
