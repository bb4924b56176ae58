"""Runs from the editor, in a production build (`scripts/run.sh`), in headless Chromium.

    .venv/bin/python bench/editor_runs.py [--repeat 3] [--fan-out-repeat 7]

1. Status latency: the delay from the runtime's `NodeFinished` event to the node's status changing in the
   DOM, over every node of a 100-node pipeline (14 parallel chains of 7 delay nodes of 20-120 ms, one
   input, one output: 99 finish events per run). Server side: the event's own timestamp (`ts`, epoch, as
   stored in the run record's `finished_at`). Browser side: a MutationObserver on the nodes' `data-status`
   records `performance.timeOrigin + performance.now()` when it turns `succeeded`; a WebSocket wrapper
   records when each frame arrived, to split the delay into "until the frame arrived" and "frame -> DOM".
   Browser and server share one clock (one machine).
2. Fan-out: a 50-way fan-out of 100 ms nodes (`runtime.testing.specs.fan_out_spec(50, 0.1)`) run from the
   UI versus run headless with `runtime.run` in this process: the run's own wall time (the executor's
   `latency_ms`) for both, and for the UI also click -> `run-status` "succeeded" in the DOM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # first: `tests/runtime` must not shadow the `runtime` package

from e2e.server import run_server  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__frames = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", () => window.__frames.push(performance.timeOrigin + performance.now()));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.__done = {};
  const watch = () => new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const r of records) {
      const el = r.target;
      if (!el.classList || !el.classList.contains("pw-node")) continue;
      const id = el.getAttribute("data-testid").slice(5);
      if (el.getAttribute("data-status") === "succeeded" && !(id in window.__done)) window.__done[id] = now;
    }
    const status = document.querySelector("[data-testid=run-status]");
    if (status && status.getAttribute("data-status") === "succeeded" && window.__clicked && !window.__shown) {
      window.__shown = now;
    }
  }).observe(document.documentElement, {subtree: true, attributes: true, attributeFilter: ["data-status"]});
  if (document.documentElement) watch(); else document.addEventListener("DOMContentLoaded", watch);
  // the moment the Run button is clicked, as the page sees it
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("[data-testid=run-button]")) {
      window.__clicked = performance.timeOrigin + performance.now(); window.__shown = null;
    }
  }, true);
})();
"""


def hundred_nodes(seed: int = 5) -> dict[str, Any]:
    """io.input -> 14 chains of 7 `demo.delay` nodes (20-120 ms each) -> one io.output at the end of chain 0."""
    rng = random.Random(seed)
    nodes = [{"id": "q", "component": "io.input", "version": 1, "params": {"name": "q"}}]
    edges, layout = [], {"q": {"x": 0.0, "y": 0.0}}
    for chain in range(14):
        previous = "q"
        for step in range(7):
            node_id = f"c{chain}_{step}"
            nodes.append({"id": node_id, "component": "demo.delay", "version": 1,
                          "params": {"seconds": round(rng.uniform(0.02, 0.12), 3)}})
            edges.append({"source": {"node": previous, "port": "value"}, "target": {"node": node_id, "port": "value"}})
            layout[node_id] = {"x": 260.0 * (step + 1), "y": 130.0 * chain}
            previous = node_id
    nodes.append({"id": "out", "component": "io.output", "version": 1, "params": {}})
    edges.append({"source": {"node": "c0_6", "port": "value"}, "target": {"node": "out", "port": "value"}})
    layout["out"] = {"x": 260.0 * 8, "y": 0.0}
    return {"schema_version": 1, "name": "bench-100", "nodes": nodes, "edges": edges, "layout": layout}


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)


def _run_once(page: Page, inputs: dict[str, str]) -> str:
    status = page.get_by_test_id("run-status")
    before = status.get_attribute("data-run-id") or ""
    for name, value in inputs.items():
        page.get_by_test_id(f"run-input-{name}").fill(value)
    page.evaluate("() => { window.__done = {}; window.__clicked = null; window.__shown = null; }")
    page.get_by_test_id("run-button").click()
    expect(status).not_to_have_attribute("data-run-id", before, timeout=30_000)
    expect(status).to_have_attribute("data-status", "succeeded", timeout=60_000)
    return status.get_attribute("data-run-id") or ""


def _finished_at(run_id: str) -> dict[str, float]:
    from runtime.store.recorder import RunRecorder
    from runtime.store.runs import get_run

    RunRecorder().flush()
    deadline = time.monotonic() + 10
    while True:  # the server's recorder writes in its own process: wait for the finished run
        found = get_run(run_id)
        if found is not None and found[0].status != "running":
            break
        assert time.monotonic() < deadline, f"run {run_id} was not stored"
        time.sleep(0.1)
    _, nodes = found
    return {n: r.finished_at.timestamp() * 1000 for n, r in nodes.items()
            if r.status == "succeeded" and r.finished_at is not None}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def status_latency(page: Page, url: str, repeat: int) -> None:
    _open(page, url)
    all_delays: list[float] = []
    all_frames: list[float] = []
    for n in range(repeat + 1):  # run 0 warms up (first renders of the run lines, JIT): reported, not counted
        run_id = _run_once(page, {"q": "x"})
        page.wait_for_function("() => Object.keys(window.__done).length >= 99", timeout=30_000)
        dom = page.evaluate("() => window.__done")
        frames = page.evaluate("() => window.__frames")
        server = _finished_at(run_id)
        delays, to_frame = [], []
        for node_id, finished in server.items():
            if node_id not in dom:
                continue
            delays.append(dom[node_id] - finished)
            arrived = [f for f in frames if f <= dom[node_id]]
            if arrived:
                to_frame.append(arrived[-1] - finished)
        if n > 0:
            all_delays += delays
            all_frames += to_frame
        print(f"  run {n}{' (warm-up)' if n == 0 else ''}: {len(delays)} updates, NodeFinished -> DOM median {statistics.median(delays):.1f} ms, "
              f"p95 {_pct(delays, 0.95):.1f} ms, max {max(delays):.1f} ms")
    print(f"100-node pipeline, {len(all_delays)} status updates: NodeFinished -> DOM median "
          f"{statistics.median(all_delays):.1f} ms, p95 {_pct(all_delays, 0.95):.1f} ms, max {max(all_delays):.1f} ms; "
          f"of which until the frame arrived: median {statistics.median(all_frames):.1f} ms, "
          f"p95 {_pct(all_frames, 0.95):.1f} ms")


def fan_out(page: Page, url: str, spec: Any, repeat: int) -> None:
    from runtime import run
    from runtime.registry import default_registry
    from runtime.store.runs import get_run

    registry = default_registry()

    async def headless() -> tuple[float, float]:
        t0 = time.perf_counter()
        result = await run(spec, {"query": "x"}, registry=registry)
        return (time.perf_counter() - t0) * 1000, result.latency_ms

    headless_wall, headless_latency = [], []
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        for _ in range(repeat):
            wall, latency = pool.submit(asyncio.run, headless()).result()
            headless_wall.append(wall)
            headless_latency.append(latency)

    _open(page, url)
    ui_latency, ui_click = [], []
    for _ in range(repeat):
        run_id = _run_once(page, {"query": "x"})
        page.wait_for_function("() => window.__shown", timeout=10_000)
        ui_click.append(page.evaluate("() => window.__shown - window.__clicked"))
        _finished_at(run_id)
        found = get_run(run_id)
        assert found is not None and found[0].latency_ms is not None
        ui_latency.append(found[0].latency_ms)
    h, u = statistics.median(headless_latency), statistics.median(ui_latency)
    print(f"50-way fan-out of 100 ms nodes, median of {repeat}: headless runtime.run {h:.1f} ms "
          f"(wall {statistics.median(headless_wall):.1f} ms); from the UI {u:.1f} ms (executor wall time in the "
          f"server, {100 * (u - h) / h:+.1f} %); click -> 'succeeded' shown {statistics.median(ui_click):.1f} ms "
          f"({100 * (statistics.median(ui_click) - h) / h:+.1f} % vs headless)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 100-node pipeline (99 updates each)")
    parser.add_argument("--fan-out-repeat", type=int, default=7)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="patchwire-bench-runs-"))
    os.environ["PATCHWIRE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["PATCHWIRE_PLUGINS"] = "runtime.testing.components"
    from runtime.store import pipelines as store
    from runtime.testing.specs import fan_out_spec

    hundred = store.create_pipeline(hundred_nodes())
    fan_spec = fan_out_spec(50, 0.1)
    fan = store.create_pipeline(fan_spec.model_dump(mode="json"))
    env = {"PATCHWIRE_PLUGINS": "runtime.testing.components"}
    t0 = time.perf_counter()
    with run_server(env, data_dir=data_dir) as server, sync_playwright() as p:
        print(f"server ready in {time.perf_counter() - t0:.1f} s (prod build included)")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.add_init_script(RECORDER)
        status_latency(page, f"{server.base}/pipelines/{hundred.id}", args.repeat)
        fan_out(page, f"{server.base}/pipelines/{fan.id}", fan_spec, args.fan_out_repeat)
        browser.close()


if __name__ == "__main__":
    main()
