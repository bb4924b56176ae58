"""The editor's JS heap while edits and runs repeat on a big pipeline (used by bench/editor_load.py).

Each cycle: drag a node, drop a node from the palette, wire it, delete it, undo, redo; every few
cycles a whole run of the pipeline. The heap is read through the DevTools protocol after a forced
garbage collection, so what is left is what the page keeps.
"""

from __future__ import annotations

import re
import statistics
import time

from playwright.sync_api import Page, expect

__all__ = ["soak"]

ENDED = re.compile(r"^(succeeded|failed|cancelled|interrupted)$")


def _heap_mb(cdp) -> float:
    cdp.send("HeapProfiler.collectGarbage")
    return cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20


def _counts(page: Page) -> tuple[int, int]:
    canvas = page.get_by_test_id("canvas")
    return int(canvas.get_attribute("data-nodes") or 0), int(canvas.get_attribute("data-edges") or 0)


def _saved(page: Page) -> None:
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved", timeout=30_000)


def _cycle(page: Page, i: int, nodes: int, edges: int) -> None:
    canvas = page.get_by_test_id("canvas")
    box = page.locator(f'.react-flow__node[data-id="n1_{1 + i % 3}"]').bounding_box()
    assert box is not None
    step = 30 if i % 2 == 0 else -30  # back and forth: the graph stays where it was
    page.mouse.move(box["x"] + 20, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 20 + step, box["y"] + 8, steps=8)
    page.mouse.up()
    page.get_by_test_id("palette-item-demo.echo").drag_to(page.locator(".react-flow__pane"),
                                                          target_position={"x": 700, "y": 400})
    expect(canvas).to_have_attribute("data-nodes", str(nodes + 1))
    page.evaluate("window.__patchwire.connect({source: 'n0_0', sourceHandle: 'value', target: 'echo', "
                  "targetHandle: 'value'})")
    expect(canvas).to_have_attribute("data-edges", str(edges + 1))
    _saved(page)
    page.evaluate("window.__patchwire.rf.deleteElements({nodes: [{id: 'echo'}]})")
    expect(canvas).to_have_attribute("data-nodes", str(nodes))
    page.keyboard.press("Control+z")
    expect(canvas).to_have_attribute("data-nodes", str(nodes + 1))
    page.keyboard.press("Control+Shift+z")
    expect(canvas).to_have_attribute("data-nodes", str(nodes))
    _saved(page)


def _run(page: Page) -> float:
    status = page.get_by_test_id("run-status")
    before = status.get_attribute("data-run-id") or ""
    t0 = time.perf_counter()
    page.get_by_test_id("run-button").click()
    expect(status).not_to_have_attribute("data-run-id", before, timeout=30_000)
    expect(status).to_have_attribute("data-status", ENDED, timeout=300_000)
    return time.perf_counter() - t0


def soak(page: Page, seconds: float, run_every: int = 5) -> dict[str, float]:
    """Edit and run for `seconds`; print and return the heap at the start, the end and its trend."""
    nodes, edges = _counts(page)
    if page.evaluate("!!window.__patchwire.rf.getNode('echo')"):  # left by the edits measured before
        page.evaluate("window.__patchwire.rf.deleteElements({nodes: [{id: 'echo'}]})")
        nodes -= 1
        expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", str(nodes))
    _saved(page)
    nodes, edges = _counts(page)
    cdp = page.context.new_cdp_session(page)
    samples: list[tuple[float, float]] = [(0.0, _heap_mb(cdp))]
    runs: list[float] = []
    t0 = time.perf_counter()
    cycles = 0
    while time.perf_counter() - t0 < seconds:
        _cycle(page, cycles, nodes, edges)
        cycles += 1
        if cycles % run_every == 0:
            runs.append(_run(page))
        if cycles % 3 == 0:
            samples.append((time.perf_counter() - t0, _heap_mb(cdp)))
    samples.append((time.perf_counter() - t0, _heap_mb(cdp)))
    half = len(samples) // 2
    first, second = [m for _, m in samples[:half]], [m for _, m in samples[half:]]
    result = {"minutes": samples[-1][0] / 60, "cycles": cycles, "runs": len(runs), "start_mb": samples[0][1],
              "end_mb": samples[-1][1], "max_mb": max(m for _, m in samples),
              "first_half_mb": statistics.median(first or [samples[0][1]]), "second_half_mb": statistics.median(second)}
    print(f"soak {result['minutes']:.1f} min: {cycles} edit cycles (6 edits each), {len(runs)} runs of the whole "
          f"pipeline (median {statistics.median(runs) if runs else 0:.1f} s); JS heap after GC: start "
          f"{result['start_mb']:.1f} MB, end {result['end_mb']:.1f} MB, max {result['max_mb']:.1f} MB; median of the "
          f"first half {result['first_half_mb']:.1f} MB, second half {result['second_half_mb']:.1f} MB "
          f"({len(samples)} samples)")
    return result
