"""A 1,000-node pipeline: each edit reaches the browser as a patch of a few hundred bytes, not the whole graph.

The bytes are the websocket frames Playwright sees the page receive (page.on("websocket")).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocket, expect

from runtime.testing.specs import layered_spec

from . import runs, ui
from .conftest import Servers
from .server import PLUGINS, Server

EDIT_BUDGET = 5 * 1024  # bytes received per move / connect / delete, autosave status frames included
BIG = {"nodes": 1000, "edges": 1300}


@pytest.fixture
def big_server(servers: Servers) -> Server:
    return servers.get("big", {"PATCHWIRE_PLUGINS": f"{PLUGINS}:runtime.testing.components"})


class Frames:
    """Sizes of the websocket frames the page received, in order."""

    def __init__(self, page: Page) -> None:
        self.sizes: list[int] = []
        page.on("websocket", self._watch)

    def _watch(self, ws: WebSocket) -> None:
        ws.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        self.sizes.append(len(payload if isinstance(payload, bytes) else payload.encode()))

    def during(self, page: Page, edit: Callable[[], None]) -> list[int]:
        """The frames received from `edit` until its autosave has landed."""
        rev = ui.revision(page)
        mark = len(self.sizes)
        edit()
        ui.wait_saved(page, after=rev)
        page.wait_for_timeout(0)  # let Playwright deliver the frames that arrived with the last one
        return self.sizes[mark:]


@pytest.fixture
def big_page(big_server: Server, page: Page) -> Iterator[tuple[Page, Frames, str]]:
    pipeline = runs.create_pipeline(big_server.data_dir, layered_spec(BIG["nodes"], BIG["edges"]))
    frames = Frames(page)
    page.goto(f"{big_server.base}/pipelines/{pipeline}")
    _wait_big(page)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-pipeline-id", pipeline)
    canvas = page.get_by_test_id("canvas")
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"]), timeout=30_000)
    expect(canvas).to_have_attribute("data-edges", str(BIG["edges"]))
    assert max(frames.sizes) > 50_000  # the load itself sends the whole graph once
    page.evaluate("window.__patchwire.rf.setViewport({x: 40, y: 40, zoom: 0.8})")
    yield page, frames, pipeline


def _wait_big(page: Page) -> None:
    """A 1,000-node page on a loaded 2-core machine: more headroom than ui.wait_ready's 20 s."""
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)


def _graph(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => { const rf = window.__patchwire.rf;
      return {nodes: rf.getNodes().map(n => [n.id, Math.round(n.position.x), Math.round(n.position.y),
                                             JSON.stringify(n.data)]).sort(),
              edges: rf.getEdges().map(e => e.id).sort()}; }""")


def test_edits_on_1000_nodes_send_patches_under_5_kb(big_page: tuple[Page, Frames, str]) -> None:
    page, frames, _ = big_page
    canvas = page.get_by_test_id("canvas")
    box = ui.node_box(page, "n1_2")
    dropped: list[dict[str, float]] = []

    def move() -> None:
        page.mouse.move(box["x"] + 20, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + 80, box["y"] + 48, steps=5)
        page.mouse.up()
        dropped.append(ui.node_box(page, "n1_2"))

    sizes = {
        "move": frames.during(page, move),
        "connect": frames.during(page, lambda: page.evaluate(
            "window.__patchwire.connect({source: 'n0_1', sourceHandle: 'value', target: 'n1_0', targetHandle: 'values'})")),
        "delete": frames.during(page, lambda: page.evaluate(
            "window.__patchwire.rf.deleteElements({nodes: [{id: 'n2_4'}]})")),
    }
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"] - 1))
    for what, got in sizes.items():
        assert got and sum(got) <= EDIT_BUDGET, f"{what}: {sum(got)} bytes received in {len(got)} frames: {got}"
    moved = ui.node_box(page, "n1_2")  # where the drag left it, after the server's patch came back
    assert moved["x"] > box["x"] + 20 and (moved["x"], moved["y"]) == (dropped[0]["x"], dropped[0]["y"])

    # Undo brings the deleted node and its wires back, as a patch too.
    undo = frames.during(page, lambda: page.keyboard.press("Control+z"))
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"]))
    assert sum(undo) <= EDIT_BUDGET, undo

    # What the patches built equals what a fresh load of the saved pipeline shows.
    patched = _graph(page)
    assert "n1_0" in {n[0] for n in patched["nodes"]} and "n0_1.value->n1_0.values" in patched["edges"]
    page.reload()
    _wait_big(page)
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"]), timeout=30_000)
    assert _graph(page) == patched


def test_a_reloaded_tab_shows_every_patched_edit(big_page: tuple[Page, Frames, str]) -> None:
    """A reload hydrates the last snapshot plus the last patch only; loading the page sends the whole graph again."""
    page, frames, _ = big_page
    canvas = page.get_by_test_id("canvas")
    for node_id in ("n3_3", "n3_4", "n3_5"):
        page.evaluate(f"window.__patchwire.rf.deleteElements({{nodes: [{{id: '{node_id}'}}]}})")
        expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"] - 1 - ["n3_3", "n3_4", "n3_5"].index(node_id)))
    ui.wait_saved(page)
    patched = _graph(page)
    mark = len(frames.sizes)
    page.reload()
    _wait_big(page)
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"] - 3), timeout=30_000)
    assert _graph(page) == patched
    assert max(frames.sizes[mark:]) > 50_000  # the reload got the whole graph
