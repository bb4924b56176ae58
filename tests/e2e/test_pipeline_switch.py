"""Switching pipelines in one tab: the canvas shows exactly the pipeline the editor opened, never the one it left.

The canvas holds a snapshot of the graph plus the patches sent since (editor/graph_patches.py). A snapshot or
patch about the pipeline the tab just left that reaches the browser after the new one was shown must be
dropped, not applied to the new pipeline (a CI run once showed the RAG template's 13 nodes again on a new
empty pipeline, and the next node added made 14). The first test delivers such a late snapshot on purpose
(the frame the server sent for the pipeline left, handed to the page again); the second loses the new
pipeline's reset on the way; the third switches quickly, through the dialog and back/forward, and checks
each canvas and where each edit was saved.
"""

from __future__ import annotations

import contextlib

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from editor import graph
from editor.templates import load_template
from runtime.store import pipelines as store

from . import runs, ui
from .server import Server

RAG_IDS = sorted(n.id for n in load_template("rag_review").nodes)

SHOWN_IDS_JS = """() => [...document.querySelectorAll('[data-testid=canvas] .react-flow__node')]
    .filter(n => !n.classList.contains('react-flow__node-sticky')).map(n => n.dataset.id).sort()"""

# In the page, between the websocket and socket.io: keeps the graph part of every Reflex update that resets the
# canvas (has `graph_key`), so a test can hand one to the page again later (a late answer about a pipeline the
# tab has left), and can lose the graph part of the next reset on purpose (`__loseNextReset`).
WIRE_TAP_JS = """(() => {
  const GRAPH = /^(nodes|positions|edges|graph_key|graph_patch)(_rx_state_)?$/;
  window.__graphFrames = [];
  window.__loseNextReset = false;
  const split = (data) => {
    const at = typeof data === "string" && data.includes("graph_key") ? data.indexOf("[") : -1;
    return at < 0 ? null : [data.slice(0, at), ...JSON.parse(data.slice(at))];
  };
  const tap = (data) => {  // the frame socket.io is given instead of `data`
    const parts = split(data);
    if (!parts) return data;
    const [head, name, update] = parts;
    for (const [sub, vars] of Object.entries((update && update.delta) || {})) {
      const graphVars = Object.fromEntries(Object.entries(vars).filter(([k]) => GRAPH.test(k)));
      const nodes = Object.entries(graphVars).find(([k]) => k.startsWith("nodes"));
      if (!Object.keys(graphVars).some((k) => k.startsWith("graph_key")) || !nodes) continue;
      window.__graphFrames.push({ head, name, sub, vars: graphVars, count: nodes[1].length });
      if (window.__loseNextReset) {
        window.__loseNextReset = false;
        for (const k of Object.keys(graphVars)) delete vars[k];
        return head + JSON.stringify([name, update]);
      }
    }
    return data;
  };
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    window.__socket = ws;
    let handler = null;  // engine.io's `ws.onmessage`, called with the tapped frame
    Object.defineProperty(ws, "onmessage", { configurable: true, get: () => handler, set: (h) => { handler = h; } });
    ws.addEventListener("message", (ev) => { if (handler) handler.call(ws, { data: tap(ev.data) }); });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
  window.__deliverLate = (count) => {  // the last recorded reset of `count` nodes, delivered again now
    const frame = [...window.__graphFrames].reverse().find((f) => f.count === count);
    if (!frame) return false;
    const update = { delta: { [frame.sub]: frame.vars }, events: [], final: true };
    window.__socket.dispatchEvent(new MessageEvent("message", { data: frame.head + JSON.stringify([frame.name, update]) }));
    return true;
  };
})();"""


def _shown_ids(page: Page) -> list[str]:
    return page.evaluate(SHOWN_IDS_JS)


def expect_canvas(page: Page, server: Server, pipeline_id: str, ids: list[str]) -> None:
    """The editor shows `pipeline_id` (and its saved name) and its canvas exactly the nodes `ids` (auto-waiting)."""
    expect(page.get_by_test_id("editor")).to_have_attribute("data-pipeline-id", pipeline_id)
    with runs.in_data_dir(server.data_dir):
        expect(page.get_by_test_id("pipeline-name")).to_have_value(store.get_pipeline(pipeline_id).name)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", str(len(ids)))
    with contextlib.suppress(PlaywrightTimeout):  # the assert below then names what is shown instead
        page.wait_for_function(f"want => JSON.stringify(({SHOWN_IDS_JS})()) === JSON.stringify(want)", arg=sorted(ids),
                               timeout=10_000)
    assert _shown_ids(page) == sorted(ids), f"the canvas of `{pipeline_id}` shows other nodes"


def _saved_ids(server: Server, pipeline_id: str) -> list[str]:
    with runs.in_data_dir(server.data_dir):
        return sorted(n["id"] for n in store.get_pipeline(pipeline_id).spec.get("nodes", []))


def _new_empty(page: Page, *, left: str) -> str:
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id("new-empty").click()
    page.wait_for_url(lambda url: "/pipelines/" in url and not url.endswith(left), timeout=20_000)
    return ui.pipeline_id(page)


def _add_node(page: Page, component: str, x: float, y: float) -> str:
    """Drop `component` on the canvas; the id of the node it made (the only new one)."""
    before = set(_shown_ids(page))
    ui.drop(page, component, x, y)
    added = set(_shown_ids(page)) - before
    assert len(added) == 1, f"dropping {component} added {added or 'nothing'}"
    return added.pop()


def _open_rag_with_the_wire_tapped(server: Server, page: Page) -> str:
    rag = runs.create_pipeline(server.data_dir, graph.spec_to_dict(load_template("rag_review")))
    page.add_init_script(WIRE_TAP_JS)
    runs.open_pipeline(page, server.base, rag)
    expect_canvas(page, server, rag, RAG_IDS)
    return rag


def _a_node_added_lands_only_in(server: Server, page: Page, empty: str, rag: str) -> None:
    """A node added now shows on `empty`, is saved there (also after a reload) and not in `rag`."""
    added = _add_node(page, "e2e.double", 300, 200)
    expect_canvas(page, server, empty, [added])
    ui.wait_saved(page)
    page.reload()
    ui.wait_ready(page)
    expect_canvas(page, server, empty, [added])
    assert _saved_ids(server, empty) == [added]
    assert _saved_ids(server, rag) == RAG_IDS


def test_a_late_snapshot_of_the_pipeline_left_is_not_applied_to_the_new_one(server: Server, page: Page) -> None:
    rag = _open_rag_with_the_wire_tapped(server, page)

    empty = _new_empty(page, left=rag)
    ui.wait_ready(page)
    expect_canvas(page, server, empty, [])

    # The RAG pipeline's snapshot arrives again, after the new pipeline was shown.
    assert page.evaluate(f"() => window.__deliverLate({len(RAG_IDS)})"), "no 13-node snapshot was recorded"
    _a_node_added_lands_only_in(server, page, empty, rag)


def test_a_reset_lost_on_the_way_is_asked_for_again_and_sent_whole(server: Server, page: Page) -> None:
    """The new pipeline's reset never reaches the canvas (as if its update were lost): the canvas, still holding
    the pipeline left, asks for the graph again, and the answer carries the whole snapshot (not only what the
    server thought had changed since the snapshot it sent last)."""
    rag = _open_rag_with_the_wire_tapped(server, page)

    page.evaluate("() => { window.__loseNextReset = true; }")
    empty = _new_empty(page, left=rag)
    ui.wait_ready(page)
    expect_canvas(page, server, empty, [])
    assert page.evaluate("() => window.__loseNextReset") is False, "no reset reached the page"
    _a_node_added_lands_only_in(server, page, empty, rag)


def test_quick_switches_show_each_pipeline_exactly_and_edits_land_in_it(server: Server, page: Page) -> None:
    # "/" opens the most recent pipeline: this RAG one. The dialog is used as soon as the page is live,
    # while the RAG pipeline may still be loading.
    rag = runs.create_pipeline(server.data_dir, graph.spec_to_dict(load_template("rag_review")))
    page.goto(server.base + "/")
    page.wait_for_url(f"**/pipelines/{rag}")
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=20_000)
    empty = _new_empty(page, left=rag)
    ui.wait_ready(page)
    expect_canvas(page, server, empty, [])
    first = _add_node(page, "e2e.double", 300, 200)
    expect_canvas(page, server, empty, [first])

    page.go_back()
    expect_canvas(page, server, rag, RAG_IDS)
    page.go_forward()
    expect_canvas(page, server, empty, [first])
    for _ in range(3):  # back and forth without waiting for either pipeline to load
        page.go_back()
        page.go_forward()
    ui.wait_ready(page)
    expect_canvas(page, server, empty, [first])
    second = _add_node(page, "e2e.source", 80, 320)  # an edit right after the switches lands here
    expect_canvas(page, server, empty, [first, second])
    ui.wait_saved(page)

    page.go_back()
    expect_canvas(page, server, rag, RAG_IDS)
    page.reload()
    ui.wait_ready(page)
    expect_canvas(page, server, rag, RAG_IDS)
    assert _saved_ids(server, rag) == RAG_IDS
    assert _saved_ids(server, empty) == sorted([first, second])
    runs.open_pipeline(page, server.base, empty)
    expect_canvas(page, server, empty, [first, second])
