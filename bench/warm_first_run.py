"""The first RAG-template run after the editor starts, with and without the warm start.

    .venv/bin/python bench/warm_first_run.py [--repeat 2]

For each mode, a fresh server (`scripts/run.sh`, production build, the demo knowledge base indexed):
open the editor, make a pipeline from the RAG template, wait until the run bar's `warmup-status` says
ready (warm mode), then time Run -> the run's end (click to `run-status` ended) for the first run and
for a second one. Cold mode sets PATCHWIRE_WARMUP=0 (what the editor did before the warm start).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e.server import run_server  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ENDED = re.compile(r"^(succeeded|failed|cancelled|interrupted)$")
QUESTION = "How do I install a plugin?"


def open_rag(page: Page, base: str) -> float:
    """Open the editor, make a RAG pipeline; seconds from the page being usable to the warm-up's ready."""
    page.goto(base + "/")
    page.wait_for_url("**/pipelines/*", timeout=60_000)
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=60_000)
    usable = time.perf_counter()
    page.get_by_test_id("new-pipeline-button").click()
    page.get_by_test_id("template-rag_review").click()
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "13", timeout=60_000)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-loaded", "true", timeout=60_000)
    expect(page.get_by_test_id("warmup-status")).to_have_attribute("data-state", "ready", timeout=180_000)
    return time.perf_counter() - usable


def timed_run(page: Page) -> tuple[float, str]:
    status = page.get_by_test_id("run-status")
    before = status.get_attribute("data-run-id") or ""
    page.get_by_test_id("run-input-query").fill(QUESTION)
    t0 = time.perf_counter()
    page.get_by_test_id("run-button").click()
    expect(status).not_to_have_attribute("data-run-id", before, timeout=60_000)
    expect(status).to_have_attribute("data-status", ENDED, timeout=120_000)
    return time.perf_counter() - t0, status.get_attribute("data-status") or ""


def one_server(browser, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    with run_server(env, demo_kb=True) as server:
        up = time.perf_counter() - started
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        wait_ready = open_rag(page, server.base)
        first, first_status = timed_run(page)
        second, second_status = timed_run(page)
        page.context.close()
    return {"server_s": up, "ready_wait_s": wait_ready, "first_s": first, "second_s": second,
            "ok": first_status == second_status == "succeeded"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for mode, env in (("warm start", {}), ("no warm start (PATCHWIRE_WARMUP=0)", {"PATCHWIRE_WARMUP": "0"})):
            results = [one_server(browser, env) for _ in range(args.repeat)]
            firsts = [r["first_s"] for r in results]
            print(f"{mode}: first RAG run {statistics.median(firsts):.2f} s median (min {min(firsts):.2f}, max "
                  f"{max(firsts):.2f}); second run {statistics.median(r['second_s'] for r in results):.2f} s; "
                  f"waited for 'ready' after the page was usable: "
                  f"{statistics.median(r['ready_wait_s'] for r in results):.1f} s; server start "
                  f"{statistics.median(r['server_s'] for r in results):.1f} s; all runs succeeded: "
                  f"{all(r['ok'] for r in results)}")
        browser.close()


if __name__ == "__main__":
    main()
