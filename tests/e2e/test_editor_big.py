"""A 1,000-node / 1,300-edge pipeline in the browser: React Flow gets every node's size and handle positions up
front (assets/node_sizes.js), so it renders only the nodes in view, shows them at once, and, zoomed out to the
whole graph, shows all of them; a node can be dragged there and the move is saved. Timings are bench/editor_load.py's.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from editor import react_flow_patch
from runtime.testing.specs import layered_spec

from . import runs, ui
from .conftest import Servers
from .server import PLUGINS, Server

BIG = {"nodes": 1000, "edges": 1300}

# The most `.react-flow__node` elements the page ever held, and whether one was ever hidden (React Flow hides
# a node until it has measured it). Recorded from the first mutation on, before the graph arrives.
RENDER_WATCH = """(() => {
  window.__render = {most: 0, hidden: 0};
  new MutationObserver(() => {
    const shown = document.querySelectorAll(".react-flow__node");
    window.__render.most = Math.max(window.__render.most, shown.length);
    for (const n of shown) if (n.style.visibility === "hidden") { window.__render.hidden++; break; }
  }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["style"]});
})();"""

# Nodes in the DOM whose size or handles differ from what node_sizes.js gave React Flow up front (React Flow
# re-measures every node it mounts, so near a node's handle bounds are the browser's own; a far body has no handles to
# measure and keeps the given ones).
SIZE_MISMATCHES = """() => { const rf = window.__patchwire.rf, bad = [];
  for (const el of document.querySelectorAll(".react-flow__node-pipeline")) {
    const id = el.getAttribute("data-id"), node = rf.getNode(id), bounds = rf.getInternalNode(id).internals.handleBounds;
    if (el.offsetWidth !== node.width || el.offsetHeight !== node.height) bad.push([id, el.offsetWidth, el.offsetHeight]);
    const measured = [...(bounds.source || []), ...(bounds.target || [])];
    if (measured.length !== node.handles.length) bad.push([id, "handles", measured.length, node.handles.length]);
    for (const h of measured) {
      const given = node.handles.find((g) => g.id === h.id && g.type === h.type);
      if (!given || Math.abs(given.x - h.x) > 0.5 || Math.abs(given.y - h.y) > 0.5) bad.push([id, h.id, h.x, h.y, given]);
    }
  }
  return bad; }"""

# What the nodes far out are made of (assets/far_zoom.jsx): port rows, handles and text left out,
# nothing positioned inside a node, no breakpoint dot where none is set; every edge's <svg> a layout root, and
# no edge with its wide invisible click path.
FAR_BODIES = """() => {
  const nodes = [...document.querySelectorAll(".react-flow__node-pipeline")];
  const inside = nodes.flatMap((n) => [...n.querySelectorAll("*")]);
  const svgs = [...document.querySelectorAll(".react-flow__edges > svg")].filter((s) => s.querySelector(".react-flow__edge"));
  const shown = (e) => getComputedStyle(e).display !== "none";
  return {
    ports: inside.filter((e) => e.matches(".pw-port")).length,
    handles: inside.filter((e) => e.matches(".react-flow__handle")).length,
    textNodes: nodes.filter((n) => n.textContent.trim() !== "").length,
    perNode: inside.length / nodes.length,
    positioned: inside.filter((e) => shown(e) && getComputedStyle(e).position !== "static").length,
    dots: inside.filter((e) => e.matches(".pw-bp")).length,
    clickPaths: document.querySelectorAll(".react-flow__edge-interaction").length,
    edgeRoots: svgs.filter((s) => { const c = getComputedStyle(s).contain; return c.includes("layout") && c.includes("size")
      && getComputedStyle(s).top === "0px" && getComputedStyle(s).left === "0px"; }).length,
  }; }"""

# Each drawn edge's path, by edge id.
EDGE_PATHS = """() => Object.fromEntries([...document.querySelectorAll(".react-flow__edge")].map((g) =>
  [g.getAttribute("data-id"), g.querySelector("path.react-flow__edge-path").getAttribute("d")]))"""

# Whether a script the page loaded contains `mark`.
SCRIPTS_WITH = """async (mark) => { const urls = performance.getEntriesByType("resource").map((r) => r.name)
  .filter((u) => new URL(u).pathname.endsWith(".js"));
  for (const u of urls) if ((await (await fetch(u)).text()).includes(mark)) return true;
  return false; }"""

DRAWN = """() => ({nodes: document.querySelectorAll(".react-flow__node").length,
  hidden: [...document.querySelectorAll(".react-flow__node")].filter((n) => n.style.visibility === "hidden").length,
  edges: document.querySelectorAll(".react-flow__edge path.react-flow__edge-path").length})"""


@pytest.fixture
def big_server(servers: Servers) -> Server:
    return servers.get("big", {"PATCHWIRE_PLUGINS": f"{PLUGINS}:runtime.testing.components"})


def _open_big(page: Page, server: Server) -> str:
    pipeline = runs.create_pipeline(server.data_dir, layered_spec(BIG["nodes"], BIG["edges"]))
    page.add_init_script(RENDER_WATCH)
    page.goto(f"{server.base}/pipelines/{pipeline}")
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)
    canvas = page.get_by_test_id("canvas")
    expect(canvas).to_have_attribute("data-nodes", str(BIG["nodes"]), timeout=60_000)
    expect(canvas).to_have_attribute("data-edges", str(BIG["edges"]))
    return pipeline


def _drawn(page: Page) -> dict[str, Any]:
    return page.evaluate(DRAWN)


def test_1000_nodes_render_only_what_is_in_view_and_never_hidden(big_server: Server, page: Page) -> None:
    _open_big(page, big_server)
    page.wait_for_function("document.querySelectorAll('.react-flow__node').length > 0")
    drawn = _drawn(page)
    assert 0 < drawn["nodes"] < BIG["nodes"] / 2 and drawn["hidden"] == 0 and drawn["edges"] > 0, drawn
    render = page.evaluate("window.__render")
    # Without sizes up front React Flow rendered all 1,000 nodes, hidden, to measure them.
    assert render["most"] < BIG["nodes"] / 2 and render["hidden"] == 0, render
    assert page.evaluate(SIZE_MISMATCHES) == []
    expect(page.locator(".react-flow__minimap")).to_be_visible()  # the rest of the pipeline is out of view


def test_1000_nodes_all_visible_zoomed_out_and_a_drag_is_saved(big_server: Server, page: Page) -> None:
    _open_big(page, big_server)
    page.evaluate("window.__patchwire.rf.fitView({minZoom: 0.05, padding: 0.02})")
    page.wait_for_function(f"""() => {{ const d = ({DRAWN})();
        return d.nodes === {BIG['nodes']} && d.hidden === 0 && d.edges >= {BIG['edges']}; }}""", timeout=60_000)
    assert "pw-far" in (page.get_by_test_id("canvas").get_attribute("class") or "").split()  # the light node body
    # All of it in view: no minimap (nothing is out of view, and it costs a store subscriber per node on every frame
    # of a drag), and React Flow's virtualisation is off (everything is rendered anyway; its scans of every node and
    # edge on each store update are pure cost). Both come back once part of the graph is out of view, below.
    expect(page.locator(".react-flow__minimap")).to_have_count(0)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-all-in-view", "true")
    assert page.evaluate(SIZE_MISMATCHES) == []  # far out too: handles where React Flow was told they are
    far = page.evaluate(FAR_BODIES)
    assert far["ports"] == 0 and far["handles"] == 0 and far["textNodes"] == 0, far  # no text, no handles
    assert far["perNode"] <= 4 and far["positioned"] == 0 and far["dots"] == 0, far  # light, one paint chunk each
    assert far["edgeRoots"] == BIG["edges"] and far["clickPaths"] == 0, far  # each edge its own layout root (a drag lays out its edges only)
    # React Flow re-measures a node whenever its ResizeObserver reports it: a far body keeps its given handle bounds
    # (measured, its absent handles would leave none, and every edge would vanish).
    page.evaluate("() => window.__patchwire.remeasure(window.__patchwire.rf.getNodes().map((n) => n.id))")
    page.wait_for_timeout(200)
    assert page.evaluate(SIZE_MISMATCHES) == [] and _drawn(page)["edges"] >= BIG["edges"]

    node_id = "n15_20"
    before = page.evaluate(f"window.__patchwire.rf.getNode('{node_id}').position")
    paths_before = page.evaluate(EDGE_PATHS)
    touching = set(page.evaluate(f"""window.__patchwire.rf.getEdges()
        .filter((e) => e.source === '{node_id}' || e.target === '{node_id}').map((e) => e.id)"""))
    assert touching and len(paths_before) == BIG["edges"]
    zoom = page.evaluate("window.__patchwire.rf.getZoom()")
    box = ui.node_box(page, node_id)
    rev = ui.revision(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 + 30, steps=8)
    page.mouse.up()
    ui.wait_saved(page, after=rev)
    after = page.evaluate(f"window.__patchwire.rf.getNode('{node_id}').position")
    moved = (after["x"] - before["x"]) * zoom, (after["y"] - before["y"]) * zoom  # screen px (the first step starts it)
    assert 30 < moved[0] <= 61 and 15 < moved[1] <= 31, (before, after, zoom)
    assert _drawn(page)["nodes"] == BIG["nodes"]
    # The moved node's edges follow it and no other edge moved (React Flow's edges keep their last position
    # while their nodes are unchanged, and are not even woken: editor/react_flow_patch.py); an undo from the server brings them back.
    paths = page.evaluate(EDGE_PATHS)
    assert {e for e in paths if paths[e] != paths_before[e]} == touching
    for mark in react_flow_patch.MARKS:
        assert page.evaluate(SCRIPTS_WITH, mark), f"the page's scripts lack the React Flow patch ({mark})"
    rev = ui.revision(page)
    page.get_by_test_id("undo-button").click()
    ui.wait_saved(page, after=rev)
    page.wait_for_function(f"""() => {{ const p = window.__patchwire.rf.getNode('{node_id}').position;
        return p.x === {before['x']} && p.y === {before['y']}; }}""")
    page.wait_for_function(f"""(want) => {{ const now = ({EDGE_PATHS})();
        return Object.keys(want).every((e) => now[e] === want[e]); }}""", arg=paths_before)

    # Far out a node shows a breakpoint dot only while it has one (F9 on the node the drag selected).
    page.keyboard.press("F9")
    expect(page.get_by_test_id(f"breakpoint-{node_id}")).to_have_attribute("data-on", "true")
    assert page.evaluate(FAR_BODIES)["dots"] == 1
    page.keyboard.press("F9")
    expect(page.get_by_test_id(f"breakpoint-{node_id}")).to_have_count(0)

    # Zoomed back in, nodes show their ports and real handles again (wires start from them).
    page.evaluate("window.__patchwire.rf.setViewport({x: 40, y: 40, zoom: 0.8})")
    expect(page.locator('.react-flow__node[data-id="n1_1"] .pw-port-name').first).to_be_visible()
    expect(page.locator('.react-flow__node[data-id="n1_1"] .react-flow__handle.connectable')).to_have_count(3)
    assert "pw-far" not in (page.get_by_test_id("canvas").get_attribute("class") or "").split()
    assert page.locator(".react-flow__edge-interaction").count() > 0  # edges are clickable again
    expect(page.locator(".react-flow__minimap")).to_be_visible()
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-all-in-view", "false")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length < {BIG['nodes']} / 2")
