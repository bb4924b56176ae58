"""Helpers for the run tests: pipelines written straight into the test server's database, and the run panel
driven like a user does (waits are on visible state, never on sleeps)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from . import ui

__all__ = ["spec", "create_pipeline", "open_pipeline", "start_run", "run_status", "wait_run", "expect_node",
           "in_data_dir", "watch_statuses", "seen_statuses", "wait_stored", "record_run", "RUN_TIMEOUT_MS"]

RUN_TIMEOUT_MS = 30_000


@contextlib.contextmanager
def in_data_dir(data_dir: Path) -> Iterator[None]:
    """Use the test server's data directory from this process (its SQLite database is in WAL mode)."""
    before = os.environ.get("PATCHWIRE_DATA_DIR")
    os.environ["PATCHWIRE_DATA_DIR"] = str(data_dir)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PATCHWIRE_DATA_DIR", None)
        else:
            os.environ["PATCHWIRE_DATA_DIR"] = before


def spec(name: str, nodes: dict[str, tuple[str, dict[str, Any]]], edges: list[tuple[str, str, str, str]]
         ) -> dict[str, Any]:
    """A spec from {id: (component, params)} and [(source, port, target, port)], laid out left to right."""
    layout = {node_id: {"x": 260.0 * i, "y": 80.0 + 40 * (i % 2)} for i, node_id in enumerate(nodes)}
    return {"schema_version": 1, "name": name,
            "nodes": [{"id": n, "component": c, "version": 1, "params": p} for n, (c, p) in nodes.items()],
            "edges": [{"source": {"node": s, "port": sp}, "target": {"node": t, "port": tp}} for s, sp, t, tp in edges],
            "layout": layout}


def create_pipeline(data_dir: Path, data: dict[str, Any]) -> str:
    from runtime.store import pipelines

    with in_data_dir(data_dir):
        return pipelines.create_pipeline(data).id


def open_pipeline(page: Page, base: str, pipeline_id: str, query: str = "") -> None:
    page.goto(f"{base}/pipelines/{pipeline_id}{query}")
    ui.wait_ready(page)
    expect(page.get_by_test_id("editor")).to_have_attribute("data-pipeline-id", pipeline_id)


def run_status(page: Page) -> Locator:
    return page.get_by_test_id("run-status")


def start_run(page: Page, **inputs: str) -> str:
    """Type the inputs, press Run, wait until the run is in flight; return its id."""
    for name, value in inputs.items():
        page.get_by_test_id(f"run-input-{name}").fill(value)
    before = run_status(page).get_attribute("data-run-id") or ""
    page.get_by_test_id("run-button").click()
    expect(run_status(page)).not_to_have_attribute("data-run-id", before)
    return run_status(page).get_attribute("data-run-id") or ""


def wait_run(page: Page, status: str, timeout: int = RUN_TIMEOUT_MS) -> None:
    expect(run_status(page)).to_have_attribute("data-status", status, timeout=timeout)


def expect_node(page: Page, node_id: str, status: str, timeout: int = RUN_TIMEOUT_MS) -> None:
    expect(ui.node(page, node_id)).to_have_attribute("data-status", status, timeout=timeout)


WATCH_STATUSES_JS = """() => {
  window.__statuses = {};
  const seen = (el) => {
    const id = (el.getAttribute('data-testid') || '').slice(5);
    const list = window.__statuses[id] || (window.__statuses[id] = []);
    const s = el.getAttribute('data-status');
    if (list[list.length - 1] !== s) list.push(s);
  };
  document.querySelectorAll('.pw-node[data-status]').forEach(seen);
  new MutationObserver((records) => records.forEach((r) => {
    if (r.target.classList.contains('pw-node')) seen(r.target);
  })).observe(document.body,
    {subtree: true, attributes: true, attributeFilter: ['data-status']});
}"""


def watch_statuses(page: Page) -> None:
    """Record every status each node shows from now on (read back with `seen_statuses`)."""
    page.evaluate(WATCH_STATUSES_JS)


def seen_statuses(page: Page) -> dict[str, list[str]]:
    return page.evaluate("() => window.__statuses")


def wait_stored(data_dir: Path, run_id: str, status: str, timeout: float = 10.0) -> None:
    """Wait until the run is in the server's database with `status` (polling the database, not sleeping blind)."""
    import time

    from runtime.store.runs import get_run

    deadline = time.monotonic() + timeout
    while True:
        with in_data_dir(data_dir):
            found = get_run(run_id)
        if found is not None and found[0].status == status:
            return
        assert time.monotonic() < deadline, f"run {run_id} was not stored as {status!r}: {found and found[0].status}"
        time.sleep(0.05)


def record_run(data_dir: Path, pipeline_id: str, data: dict[str, Any], inputs: dict[str, Any]) -> str:
    """Run `data` in this process (like `patchwire run`, with the e2e components) and store it as a run of
    `pipeline_id` in the server's database: a run the editor's process never had. Returns its id."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from runtime import PipelineSpec, api
    from runtime.registry import default_registry
    from runtime.store.recorder import RunRecorder

    from .server import HERE

    plan = api.compile(PipelineSpec.model_validate(data), default_registry([str(HERE / "plugin_components.py")]))
    recorder = RunRecorder(pipeline_id=pipeline_id, spec=plan.spec, source="cli")

    async def run() -> str:
        execution = api.execute(plan, inputs)
        await execution.consume(recorder)
        return execution.run_id

    with in_data_dir(data_dir):
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
            run_id = pool.submit(asyncio.run, run()).result(timeout=60)
        RunRecorder.flush()
    return run_id
