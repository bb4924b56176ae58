"""The editor with a big pipeline (1,000 nodes / 1,300 edges by default), in a production build
(`scripts/run.sh`), in headless Chromium.

    .venv/bin/python bench/editor_load.py [--nodes 1000 --edges 1300] [--repeat 3] [--soak-seconds 600]
                                          [--cpu-slowdown 2] [--screenshot docs/editor.png]

Measures (method as in notes/reflex-react-flow.md):
- load (an in-page MutationObserver + requestAnimationFrame check), on first open and on a tab reload:
  navigation start -> the editor's own view on screen (its readable fit shows the start of a big pipeline at
  zoom 0.75: every node in the DOM visible, edges drawn), then, zoomed out at once to the whole graph,
  -> all nodes visible and every edge path in the DOM (React Flow renders only what is in view), each time
  at the start of the frame after the one that drew it (when that frame is on screen);
- drag: requestAnimationFrame intervals while a node is dragged by real mouse events, one a frame, as Chromium
  hands a page a hand's moves (bench/hand_pointer.py says why neither Playwright's mouse, in-page events nor
  moves at a fixed rate), at an editing zoom (0.8) and with the whole graph in view, and the websocket messages
  sent meanwhile (only drag-stop goes to Python);
- bytes per graph edit: every websocket frame the page receives (Playwright's `framereceived`) from the
  edit until its autosave has landed;
- with `--soak-seconds`: the JS heap (after a forced GC) while edits and runs repeat (bench/editor_soak.py).
With `--screenshot`, also saves the editor with the RAG template open.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e2e.server import run_server  # noqa: E402
from editor_soak import soak  # noqa: E402
from hand_pointer import HandPointer, debugging_args, free_port, hand_pointer  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PageTimeout  # noqa: E402

from runtime.testing.specs import layered_spec  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--enable-precise-memory-info"]
WHOLE_GRAPH_VIEWPORT = {"width": 2560, "height": 1440}  # the 20 x 50 layout fits at zoom >= 0.15
EDITING_VIEWPORT = {"width": 1600, "height": 1000}

WS_RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__ws = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    const send = ws.send.bind(ws);
    ws.send = (data) => { window.__ws.push({t: performance.now(), text: String(data).slice(0, 120)}); return send(data); };
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  // the editor's view drawn (window.__viewAt), then, zoomed out to the whole graph at once, the first moment all
  // nodes are visible and all edges drawn (window.__visibleAt)
  window.__viewAt = null;
  window.__visibleAt = null;
  window.__fitAt = null;
  // React Flow shows a node once it knows its size: its wrapper's inline `visibility` (read here, so the check
  // forces no style recalculation of its own and costs next to nothing). A state seen in one frame is on
  // screen once that frame has been drawn: the time is taken at the start of the next frame.
  const drawn = (nodes, edges) => {
    const shown = document.querySelectorAll(".react-flow__node");
    if (shown.length < nodes || document.querySelectorAll(".react-flow__edge path.react-flow__edge-path").length < edges) return false;
    for (const n of shown) if (n.style.visibility === "hidden") return false;
    return true;
  };
  const nextFrame = (set) => requestAnimationFrame(() => set(performance.now()));
  let viewSeen = false, allSeen = false;
  const check = () => {
    const want = window.__want;
    if (!want || allSeen) return;
    if (!window.__viewAt) {
      if (viewSeen) return;  // drawn in this frame: the zoom-out waits until it is on screen
      const canvas = document.querySelector("[data-testid=canvas]");
      const viewport = document.querySelector(".react-flow__viewport");
      if (!canvas || canvas.getAttribute("data-nodes") !== String(want.total) || !window.__patchwire || !viewport
        || viewport.style.transform === "translate(0px, 0px) scale(1)" || !drawn(1, 1)) return;  // not fitted yet
      viewSeen = true;
      nextFrame((t) => { window.__viewAt = t; check(); });
      return;
    }
    if (drawn(want.nodes, want.edges)) { allSeen = true; nextFrame((t) => { window.__visibleAt = t; }); return; }
    const now = performance.now();  // the whole graph in view (again until it is: unmeasured nodes do not count)
    if (!window.__fitAt || now - window.__fitAt > 250) {
      window.__fitAt = now;
      window.__patchwire.rf.fitView({minZoom: 0.05, padding: 0.02});
    }
    setTimeout(() => { if (!queued) { queued = true; requestAnimationFrame(onFrame); } }, 100);  // look again
  };
  let queued = false;  // one check per frame, however many mutations (the check itself must not slow the load)
  const onFrame = () => { queued = false; check(); };
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(onFrame); } }).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ["style", "class"]});
})();
"""


STATE_SHOWN = """() => ({viewAt: window.__viewAt, nodes: document.querySelectorAll(".react-flow__node").length,
  hidden: [...document.querySelectorAll(".react-flow__node")].filter((n) => n.style.visibility === "hidden").length,
  edges: document.querySelectorAll(".react-flow__edge path.react-flow__edge-path").length,
  canvasNodes: (document.querySelector("[data-testid=canvas]") || {getAttribute: () => null}).getAttribute("data-nodes"),
  transform: (document.querySelector(".react-flow__viewport") || {style: {}}).style.transform})"""


class Frames:
    """Sizes of the websocket frames a page receives (Playwright's view of the socket)."""

    def __init__(self, page: Page) -> None:
        self.sizes: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda p: self.sizes.append(
            len(p if isinstance(p, bytes) else p.encode()))))


def wait_ready(page: Page) -> None:
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)


def measure_load(page: Page, url: str, want: dict[str, int], *, reload: bool = False) -> tuple[float, float]:
    """(navigation -> the editor's view drawn, navigation -> all `want` nodes and edges drawn), in ms."""
    page.add_init_script(f"window.__want = {{nodes: {want['nodes']}, edges: {want['edges']}, total: {want['total']}}};")
    page.reload() if reload else page.goto(url)
    try:
        page.wait_for_function("window.__visibleAt !== null", timeout=120_000, polling=50)
    except PageTimeout as exc:  # say what the page showed, not only that it timed out
        shown = page.evaluate(STATE_SHOWN)
        raise SystemExit(f"the {'reload' if reload else 'open'} of {url} never showed all {want}: {shown}") from exc
    return float(page.evaluate("window.__viewAt")), float(page.evaluate("window.__visibleAt"))


# The drag's frames, recorded in the page while the hand pointer (bench/hand_pointer.py) moves the node: every
# requestAnimationFrame time (each calls the pointer's binding, which sends the next move), every mousemove the
# page is handed, and whether each frame showed the node somewhere new. The intervals counted are those from
# the frame that handled the first move to the one after the last: each includes handling that frame's move.
FRAMES_START = """(id) => {
  const el = document.querySelector(`.react-flow__node[data-id="${id}"]`);
  const rec = window.__dragRec = {times: [], moves: [], drawnAt: [], on: true};
  let was = el.style.transform;
  const onMove = () => rec.moves.push(performance.now());
  window.addEventListener("mousemove", onMove, true);
  rec.off = () => window.removeEventListener("mousemove", onMove, true);
  const step = (t) => {
    rec.times.push(t);
    if (window.__pwHandFrame) window.__pwHandFrame("");
    if (el.style.transform !== was) { rec.drawnAt.push(t); was = el.style.transform; }
    if (rec.on) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}"""
FRAMES_STOP = """() => {
  const rec = window.__dragRec; rec.on = false; rec.off();
  if (!rec.moves.length) return {frames: [], drawn: 0, moves: 0};
  const first = rec.moves[0], last = rec.moves[rec.moves.length - 1];
  const from = rec.times.findLastIndex((t) => t <= first);
  const to = rec.times.findIndex((t) => t > last);
  const times = rec.times.slice(Math.max(from, 0), to < 0 ? undefined : to + 1);
  const frames = times.slice(1).map((t, i) => t - times[i]);
  const drawn = rec.drawnAt.filter((t) => t > first && t <= times[times.length - 1]).length;
  return {frames, drawn, moves: rec.moves.length};
}"""


def drag_path(x: float, y: float) -> list[tuple[float, float]]:
    """The press, then 80 px right and 40 down and back in 40 moves."""
    return [(x + k * 4, y + k * 2) for k in [0, *range(1, 21), *range(19, -1, -1)]]


def drag_frames(page: Page, pointer: HandPointer, node_id: str) -> dict[str, Any]:
    """Frame intervals (ms) while `node_id` is dragged 80 px right and back by a hand-like pointer (one real
    mouse move a frame, 40 moves), and what was sent to the server meanwhile."""
    box = page.locator(f'.react-flow__node[data-id="{node_id}"]').bounding_box()
    assert box is not None, f"{node_id} is not on screen"
    page.evaluate("() => { window.__wsMark = window.__ws.length; }")
    x, y = box["x"] + min(20, box["width"] / 2), box["y"] + min(8, box["height"] / 2)
    page.evaluate(FRAMES_START, node_id)
    pointer.drag(drag_path(x, y))  # a real press: React Flow selects the node and arms its drag
    page.wait_for_timeout(300)
    result = page.evaluate(FRAMES_STOP)
    sent = page.evaluate("() => window.__ws.slice(window.__wsMark).map(m => m.text)")
    other = [s for s in sent if "on_move" not in s and "on_select" not in s and s != "3"]  # "3": Engine.IO's pong
    return {"frames": result["frames"], "drawn": result["drawn"], "other_sent": len(other), "other": other,
            "move_events": len([s for s in sent if "on_move" in s]), "moves": result["moves"]}


def load_average() -> str:
    """The machine's 1-minute load average and its speed now (`host_ms`): timings here are only comparable at
    similar load and speed. This shared host's speed drifts by up to 2x over hours at the same load."""
    return f"load {os.getloadavg()[0]:.1f}, host {host_ms():.0f} ms"


def host_ms() -> float:
    """A fixed CPU-bound loop (best of three; ~60 ms on this machine when quiet): how fast the host is now."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.perf_counter() - start)
    return best * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


LATE_FRAME_MS = 25.0  # 1.5 intervals of 60 Hz: a frame that missed at least one vsync


def report_drags(page: Page, port: int, url: str, label: str, node_ids: tuple[str, ...]) -> dict[str, float]:
    with hand_pointer(port, url) as pointer:
        drags = [drag_frames(page, pointer, node) for node in node_ids]
    frames = [f for d in drags for f in d["frames"]]
    result = {"median": statistics.median(frames), "p99": percentile(frames, 0.99), "max": max(frames),
              "mean": statistics.mean(frames), "late": sum(f > LATE_FRAME_MS for f in frames)}
    print(f"drag, {label} ({len(node_ids)} drags x 40 real mouse moves, one a frame, "
          f"{sum(d['moves'] for d in drags)} handed to the page, {len(frames)} frames, the node drawn "
          f"somewhere new in {sum(d['drawn'] for d in drags)}, {load_average()}): frame median "
          f"{result['median']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms, mean "
          f"{result['mean']:.1f} ms, {result['late']} late (over one 60 Hz frame); websocket messages "
          f"sent while dragging besides select/drag-stop: {sum(d['other_sent'] for d in drags)}; drag-stop events: "
          f"{sum(d['move_events'] for d in drags)}" + "".join(f"\n  sent: {m[:80]}" for d in drags for m in d["other"]))
    return result


def edit_bytes(page: Page, frames: Frames, action, done) -> list[int]:
    """Every frame received from the edit until its autosave has landed."""
    status = page.get_by_test_id("save-status")
    revision = status.get_attribute("data-revision")
    mark = len(frames.sizes)
    action()
    done()
    expect(status).not_to_have_attribute("data-revision", revision or "", timeout=30_000)
    expect(status).to_have_attribute("data-state", "saved", timeout=30_000)
    page.wait_for_timeout(50)
    return frames.sizes[mark:]


def report_edits(page: Page, frames: Frames, n_nodes: int, n_edges: int) -> None:
    canvas = page.get_by_test_id("canvas")
    box = page.locator('.react-flow__node[data-id="n1_4"]').bounding_box()
    assert box is not None

    def drag() -> None:
        page.mouse.move(box["x"] + 20, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + 40, steps=5)
        page.mouse.up()

    results = {
        "move a node (selects it too)": edit_bytes(page, frames, drag, lambda: None),
        "add a node": edit_bytes(page, frames, lambda: page.get_by_test_id("palette-item-demo.echo").drag_to(
            page.locator(".react-flow__pane"), target_position={"x": 700, "y": 500}),
            lambda: expect(canvas).to_have_attribute("data-nodes", str(n_nodes + 1))),
        "connect": edit_bytes(page, frames, lambda: page.evaluate(
            "window.__patchwire.connect({source: 'n0_0', sourceHandle: 'value', target: 'echo', targetHandle: 'value'})"),
            lambda: expect(canvas).to_have_attribute("data-edges", str(n_edges + 1))),
        "delete a node": edit_bytes(page, frames, lambda: page.evaluate(
            "window.__patchwire.rf.deleteElements({nodes: [{id: 'echo'}]})"),
            lambda: expect(canvas).to_have_attribute("data-nodes", str(n_nodes))),
        "undo the delete": edit_bytes(page, frames, lambda: page.keyboard.press("Control+z"),
                                      lambda: expect(canvas).to_have_attribute("data-nodes", str(n_nodes + 1))),
    }
    for what, sizes in results.items():
        print(f"bytes received per edit, {what}: {sum(sizes) / 1024:.2f} KB in {len(sizes)} frames "
              f"(largest {max(sizes) / 1024:.2f} KB; autosave status frames included)")


SLOWING: list[Any] = []


def slowed(page: Page, rate: float) -> Page:
    """`page` with its CPU slowed `rate` times (DevTools' `Emulation.setCPUThrottlingRate`): a slower machine, or
    this shared host in its slow hours, without waiting for one."""
    if rate > 1:
        session = page.context.new_cdp_session(page)
        session.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        SLOWING.append(session)  # kept while the page lives: it holds the setting
    return page


def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="patchwire-bench-"))
    os.environ["PATCHWIRE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    from runtime.store import pipelines as store

    spec = layered_spec(args.nodes, args.edges, layers=args.layers)
    record = store.create_pipeline(spec)
    want = {"nodes": len(spec["nodes"]), "edges": len(spec["edges"]), "total": len(spec["nodes"])}
    env = {"PATCHWIRE_PLUGINS": "runtime.testing.components"}
    t0 = time.perf_counter()
    with run_server(env, data_dir=data_dir) as server, sync_playwright() as p:
        print(f"server ready in {time.perf_counter() - t0:.1f} s (prod build included)"
              + (f"; each page's CPU slowed {args.cpu_slowdown:g}x" if args.cpu_slowdown > 1 else ""))
        port = free_port()
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS + debugging_args(port))
        url = f"{server.base}/pipelines/{record.id}"
        loads, reloads = [], []
        for attempt in range(args.repeat):
            page = slowed(browser.new_context(viewport=WHOLE_GRAPH_VIEWPORT).new_page(), args.cpu_slowdown)
            page.add_init_script(WS_RECORDER)
            loads.append(measure_load(page, url, want))
            wait_ready(page)
            reloads.append(measure_load(page, url, want, reload=True))
            if attempt == 0:
                wait_ready(page)
                page.wait_for_timeout(500)
                # the whole graph in view again: the editor's own readable fit may land after the zoom-out above
                page.evaluate("window.__patchwire.rf.fitView({minZoom: 0.05, padding: 0.02})")
                page.wait_for_timeout(500)
                report_drags(page, port, page.url, "whole graph in view", ("n15_20", "n16_30", "n17_40"))
            page.context.close()
        for label, runs in (("open", loads), ("reload", reloads)):
            print(f"{want['nodes']} nodes / {want['edges']} edges, {label} ({load_average()}): " + "; ".join(
                f"{what} median {statistics.median(v):.0f} ms (min {min(v):.0f}, max {max(v):.0f})" for what, v in (
                    ("navigation -> the editor's view drawn", [r[0] for r in runs]),
                    ("then zoomed out -> all visible", [r[1] - r[0] for r in runs]),
                    ("navigation -> all visible", [r[1] for r in runs]))))

        page = slowed(browser.new_context(viewport=EDITING_VIEWPORT).new_page(), args.cpu_slowdown)
        page.add_init_script(WS_RECORDER)
        frames = Frames(page)
        measure_load(page, url, {"nodes": 1, "edges": 1, "total": want["nodes"]})
        wait_ready(page)
        expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", str(want["nodes"]), timeout=60_000)
        page.wait_for_timeout(1000)  # the editor's own fit view first
        page.evaluate("window.__patchwire.rf.setViewport({x: 40, y: 40, zoom: 0.8})")
        page.wait_for_timeout(300)
        if os.environ.get("BENCH_SHOT"):
            page.screenshot(path=os.environ["BENCH_SHOT"])
        report_drags(page, port, page.url, "editing zoom 0.8", ("n1_1", "n2_2", "n1_3"))
        report_edits(page, frames, want["nodes"], want["edges"])
        if args.soak_seconds > 0:
            soak(page, args.soak_seconds)
        page.context.close()
        if args.screenshot:
            screenshot(browser, server.base, Path(args.screenshot))
        browser.close()


def screenshot(browser: Any, base: str, path: Path) -> None:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(base + "/")
    page.wait_for_url("**/pipelines/*", timeout=60_000)
    wait_ready(page)
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id("template-rag_review").click()
    page.wait_for_url(lambda url: "/pipelines/" in url, timeout=60_000)
    expect(page.get_by_test_id("canvas")).not_to_have_attribute("data-nodes", "0", timeout=60_000)
    wait_ready(page)
    page.locator('.react-flow__node[data-id="generate"] .pw-node-head').click()
    expect(page.get_by_test_id("inspector")).to_have_attribute("data-node-id", "generate")
    page.wait_for_timeout(600)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=1300)
    parser.add_argument("--layers", type=int, default=20, help="columns of the generated pipeline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--soak-seconds", type=float, default=0,
                        help="repeat edits and runs this long, sampling the JS heap (the issue asks for 600)")
    parser.add_argument("--cpu-slowdown", type=float, default=1.0,
                        help="slow each measured page's CPU this many times (DevTools' CPU throttling)")
    parser.add_argument("--screenshot", default="")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
