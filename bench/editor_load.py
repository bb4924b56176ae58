"""The editor with a 300-node / 400-edge pipeline, in a production build (`scripts/run.sh`), in headless Chromium.

    .venv/bin/python bench/editor_load.py [--repeat 5] [--screenshot docs/editor.png]

Measures (method as in notes/reflex-react-flow.md):
- load: navigation start -> all 300 nodes `visibility: visible` and 400 edge paths in the DOM (an in-page
  MutationObserver + requestAnimationFrame check), on first open and on a tab reload;
- drag: requestAnimationFrame intervals while a node is dragged with 40 mouse moves, and the websocket
  messages sent meanwhile (the browser owns positions; only drag-stop goes to Python);
- bytes per graph edit: a `WebSocket` wrapper (init script) records every frame; per edit, the frame that
  carries the graph update and everything received until the autosave settles.
With `--screenshot`, also saves the editor with the RAG template open.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e.server import run_server  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

WS_RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__ws = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", (e) => window.__ws.push({dir: "in", t: performance.now(),
      bytes: typeof e.data === "string" ? new TextEncoder().encode(e.data).length : (e.data.byteLength || e.data.size)}));
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__ws.push({dir: "out", t: performance.now(), bytes: String(data).length,
      text: String(data).slice(0, 120)}); return send(data); };
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  // first moment all nodes are visible and all edges drawn
  window.__visibleAt = null;
  const check = () => {
    const want = window.__want;
    if (!want || window.__visibleAt) return;
    const nodes = document.querySelectorAll(".react-flow__node");
    if (nodes.length < want.nodes) return;
    for (const n of nodes) if (getComputedStyle(n).visibility === "hidden") return;
    if (document.querySelectorAll(".react-flow__edge path.react-flow__edge-path").length < want.edges) return;
    window.__visibleAt = performance.now();
  };
  new MutationObserver(() => requestAnimationFrame(check)).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ["style", "class"]});
})();
"""


def big_spec(n_nodes: int = 300, n_edges: int = 400, seed: int = 7) -> dict[str, Any]:
    """10 layers of 30: constants, then echo (one input) and concat (fan-in) nodes wired to the layer before."""
    rng = random.Random(seed)
    layers, width = 10, n_nodes // 10
    nodes, layout, edges = [], {}, []
    concat_ids: list[str] = []
    for layer in range(layers):
        for row in range(width):
            node_id = f"n{layer}_{row}"
            kind = "demo.constant" if layer == 0 else ("demo.concat" if row % 3 == 0 else "demo.echo")
            nodes.append({"id": node_id, "component": kind, "version": 1, "params": {}})
            layout[node_id] = {"x": layer * 320.0, "y": row * 150.0}
            if layer == 0:
                continue
            source = f"n{layer - 1}_{rng.randrange(width)}"
            edges.append({"source": {"node": source, "port": "value"},
                          "target": {"node": node_id, "port": "values" if kind == "demo.concat" else "value"}})
            if kind == "demo.concat":
                concat_ids.append(node_id)
    seen = {(e["source"]["node"], e["target"]["node"]) for e in edges}
    while len(edges) < n_edges:
        target = rng.choice(concat_ids)
        layer = int(target[1:].split("_")[0])
        source = f"n{layer - 1}_{rng.randrange(width)}"
        if (source, target) not in seen:
            seen.add((source, target))
            edges.append({"source": {"node": source, "port": "value"}, "target": {"node": target, "port": "values"}})
    return {"schema_version": 1, "name": "bench-300", "nodes": nodes, "edges": edges, "layout": layout}


def _wait_ready(page: Page) -> None:
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)


def measure_load(page: Page, url: str, want: dict[str, int], *, reload: bool = False) -> float:
    page.add_init_script(f"window.__want = {{nodes: {want['nodes']}, edges: {want['edges']}}};")
    page.reload() if reload else page.goto(url)
    page.wait_for_function("window.__visibleAt !== null", timeout=60_000, polling=50)
    return float(page.evaluate("window.__visibleAt"))  # ms since navigation start


def measure_drag(page: Page, node_id: str) -> dict[str, float]:
    box = page.locator(f'.react-flow__node[data-id="{node_id}"]').bounding_box()
    assert box is not None
    page.evaluate("""() => { window.__frames = []; let last = performance.now();
      const loop = (t) => { window.__frames.push(t - last); last = t; if (window.__framesOn) requestAnimationFrame(loop); };
      window.__framesOn = true; requestAnimationFrame(loop); window.__wsMark = window.__ws.length; }""")
    x, y = box["x"] + min(20, box["width"] / 2), box["y"] + min(8, box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    t0 = time.perf_counter()
    for i in range(1, 41):
        page.mouse.move(x + i * 6, y + i * 3)
    moves_s = time.perf_counter() - t0
    page.mouse.up()
    page.wait_for_timeout(300)
    frames = page.evaluate("() => { window.__framesOn = false; return window.__frames.slice(2); }")
    sent = page.evaluate("() => window.__ws.slice(window.__wsMark).filter(m => m.dir === 'out').map(m => m.text)")
    return {"frames": len(frames), "median_ms": statistics.median(frames), "max_ms": max(frames),
            "over_50ms": sum(1 for f in frames if f > 50), "moves_s": moves_s,
            "sent_during_drag": len([s for s in sent if "on_move" not in s and "on_select" not in s]),
            "sent_move_events": len([s for s in sent if "on_move" in s])}


def edit_bytes(page: Page, action, done) -> tuple[int, int]:
    """(bytes of the largest frame after the edit: the graph update, bytes received until the autosave settled)."""
    status = page.get_by_test_id("save-status")
    revision = status.get_attribute("data-revision")
    mark = page.evaluate("window.__ws.length")
    action()
    done()
    expect(status).not_to_have_attribute("data-revision", revision or "", timeout=30_000)
    expect(status).to_have_attribute("data-state", "saved", timeout=30_000)
    frames = page.evaluate(f"window.__ws.slice({mark}).filter(m => m.dir === 'in').map(m => m.bytes)")
    return max(frames), sum(frames)


def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="patchwire-bench-"))
    os.environ["PATCHWIRE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    from runtime.store import pipelines as store

    spec = big_spec()
    record = store.create_pipeline(spec)
    want = {"nodes": len(spec["nodes"]), "edges": len(spec["edges"])}
    env = {"PATCHWIRE_PLUGINS": "runtime.testing.components"}
    t0 = time.perf_counter()
    with run_server(env, data_dir=data_dir) as server, sync_playwright() as p:
        print(f"server ready in {time.perf_counter() - t0:.1f} s (prod build included)")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        url = f"{server.base}/pipelines/{record.id}"
        loads, reloads = [], []
        for _ in range(args.repeat):
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            page.add_init_script(WS_RECORDER)
            loads.append(measure_load(page, url, want))
            _wait_ready(page)
            reloads.append(measure_load(page, url, want, reload=True))
            page.context.close()
        print(f"{want['nodes']} nodes / {want['edges']} edges, navigation -> all visible: "
              f"median {statistics.median(loads):.0f} ms (min {min(loads):.0f}, max {max(loads):.0f}); "
              f"reload: median {statistics.median(reloads):.0f} ms (min {min(reloads):.0f}, max {max(reloads):.0f})")

        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.add_init_script(WS_RECORDER)
        measure_load(page, url, want)
        _wait_ready(page)
        page.evaluate("window.__patchwire.rf.setViewport({x: 40, y: 40, zoom: 0.8})")
        page.wait_for_timeout(300)
        drags = [measure_drag(page, node) for node in ("n1_1", "n2_2", "n1_3")]
        worst = max(d["max_ms"] for d in drags)
        print(f"drag (40 moves x {len(drags)}): frame median {statistics.median(d['median_ms'] for d in drags):.1f} ms, "
              f"max {worst:.1f} ms, frames > 50 ms: {sum(d['over_50ms'] for d in drags)}; websocket messages "
              f"sent while dragging (besides select/drag-stop): {sum(d['sent_during_drag'] for d in drags)}; "
              f"drag-stop events: {sum(d['sent_move_events'] for d in drags)}")
        report_edits(page)
        page.context.close()
        if args.screenshot:
            screenshot(browser, server.base, Path(args.screenshot))
        browser.close()


def report_edits(page: Page) -> None:
    canvas = page.get_by_test_id("canvas")
    box = page.locator('.react-flow__node[data-id="n1_4"]').bounding_box()
    assert box is not None

    def drag() -> None:
        page.mouse.move(box["x"] + 20, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + 40, steps=5)
        page.mouse.up()

    results = {
        "move a node": edit_bytes(page, drag, lambda: None),
        "add a node": edit_bytes(page, lambda: page.get_by_test_id("palette-item-demo.echo").drag_to(
            page.locator(".react-flow__pane"), target_position={"x": 700, "y": 500}),
            lambda: expect(canvas).to_have_attribute("data-nodes", "301")),
        "connect": edit_bytes(page, lambda: page.evaluate(
            "window.__patchwire.connect({source: 'n0_0', sourceHandle: 'value', target: 'echo', targetHandle: 'value'})"),
            lambda: expect(page.locator(".react-flow__edge")).to_have_count(401)),
        "delete a node": edit_bytes(page, lambda: page.evaluate(
            "window.__patchwire.rf.deleteElements({nodes: [{id: 'echo'}]})"),
            lambda: expect(canvas).to_have_attribute("data-nodes", "300")),
    }
    for what, (first, total) in results.items():
        print(f"bytes received per edit, {what}: {first / 1024:.1f} KB graph update, {total / 1024:.1f} KB "
              "including the autosave status frames")


def screenshot(browser: Any, base: str, path: Path) -> None:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(base + "/")
    page.wait_for_url("**/pipelines/*", timeout=60_000)
    _wait_ready(page)
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id("template-rag_review").click()
    page.wait_for_url(lambda url: "/pipelines/" in url, timeout=60_000)
    expect(page.get_by_test_id("canvas")).not_to_have_attribute("data-nodes", "0", timeout=60_000)
    _wait_ready(page)
    page.locator('.react-flow__node[data-id="generate"] .pw-node-head').click()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "generate")
    page.wait_for_timeout(600)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--screenshot", default="")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
