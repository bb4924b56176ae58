"""Run history: old runs open exactly as they ran (their own spec), and survive a server restart; a run in
flight when the server stopped shows as interrupted, never as running forever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from . import runs, ui
from .conftest import Servers
from .server import HERE, Server


def two_step(seconds: float, name: str) -> dict:
    return runs.spec(name, {"q": ("io.input", {"name": "q"}), "shout": ("e2e.shout", {}),
                            "wait": ("e2e.sleep", {"seconds": seconds}), "out": ("io.output", {})},
                     [("q", "value", "shout", "text"), ("shout", "text", "wait", "text"), ("wait", "text", "out", "value")])


def test_an_old_run_opens_as_it_ran_read_only(server: Server, page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, two_step(0.05, "history view"))
    runs.open_pipeline(page, server.base, pipeline)
    first = runs.start_run(page, q="old question")
    runs.wait_run(page, "succeeded")

    # Change the pipeline after that run: the shout node goes.
    ui.select_node(page, "shout")
    page.get_by_test_id("inspector-delete").click()
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "3")
    ui.wait_saved(page)

    page.get_by_test_id("tab-history").click()
    item = page.get_by_test_id(f"history-item-{first}")
    expect(item).to_have_attribute("data-status", "succeeded")
    expect(item).to_contain_text("q: old question")
    item.click()
    expect(page.get_by_test_id("viewing-banner")).to_have_attribute("data-run-id", first)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "4")  # its own spec, shout included
    runs.expect_node(page, "shout", "succeeded", timeout=1000)
    expect(page.get_by_test_id("run-button")).to_be_disabled()
    expect(page.get_by_test_id("run-input-q")).to_have_value("old question")  # what it was asked
    ui.select_node(page, "shout")
    expect(page.get_by_test_id("node-outputs")).to_contain_text("OLD QUESTION!")
    expect(page.get_by_test_id("node-id")).to_have_count(0)  # read-only: no form
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "4")

    page.get_by_test_id("back-to-editing").click()
    expect(page.get_by_test_id("viewing-banner")).to_have_count(0)
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-nodes", "3")
    expect(ui.node(page, "wait")).to_have_attribute("data-status", "idle")

    # Another pipeline's history is its own (the tab stays open across pipelines).
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id(f"history-item-{first}")).to_be_visible()
    other = runs.create_pipeline(server.data_dir, two_step(0.05, "no runs yet"))
    runs.open_pipeline(page, server.base, other)
    expect(page.get_by_test_id("history-list")).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("history-list")).to_contain_text("No runs of this pipeline yet.")


def test_runs_survive_a_restart_and_one_in_flight_shows_as_interrupted(servers: Servers, server: Server,
                                                                       page: Page) -> None:
    pipeline = runs.create_pipeline(server.data_dir, two_step(0.05, "restart"))
    runs.open_pipeline(page, server.base, pipeline)
    done = runs.start_run(page, q="finished before")
    runs.wait_run(page, "succeeded")
    with runs.in_data_dir(server.data_dir):  # the slow one: in flight when the server stops
        from runtime.store import pipelines

        record = pipelines.get_pipeline(pipeline)
        data = record.spec
        data["nodes"][2]["params"] = {"seconds": 120}
        pipelines.save_pipeline(pipeline, data, expected_revision=record.revision)
    runs.open_pipeline(page, server.base, pipeline)
    in_flight = runs.start_run(page, q="in flight")
    runs.expect_node(page, "wait", "running")
    runs.wait_stored(server.data_dir, in_flight, "running")  # the recorder writes in the background

    restarted = servers.restart()
    runs.open_pipeline(page, restarted.base, pipeline)
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id(f"history-item-{done}")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id(f"history-item-{in_flight}")).to_have_attribute("data-status", "interrupted")
    page.get_by_test_id(f"history-item-{in_flight}").click()
    expect(runs.run_status(page)).to_have_attribute("data-status", "interrupted")
    runs.expect_node(page, "shout", "succeeded", timeout=1000)
    runs.expect_node(page, "wait", "cancelled", timeout=1000)
    ui.select_node(page, "wait")
    expect(page.get_by_test_id("node-skip-reason")).to_contain_text("the server stopped during the run")
    page.get_by_test_id("tab-run").click()
    expect(page.get_by_test_id("run-error")).to_contain_text("The server stopped while this run was in flight.")


def test_each_run_in_the_history_shows_where_it_came_from(server: Server, page: Page) -> None:
    data = two_step(0.05, "sources")
    pipeline = runs.create_pipeline(server.data_dir, data)
    runs.open_pipeline(page, server.base, pipeline)
    from_editor = runs.start_run(page, q="from the editor")
    runs.wait_run(page, "succeeded")
    recorded = {"batch-run-0001": "batch", "cli-run-0001": "cli", "eval-run-0001": "eval"}  # any value is shown
    with runs.in_data_dir(server.data_dir):
        from runtime.store.db import insert
        from runtime.store.tables import RunRecord

        for run_id, source in recorded.items():
            insert(RunRecord(id=run_id, pipeline_id=pipeline, pipeline_name=data["name"], spec=data, source=source,
                             status="succeeded", inputs={"q": f"from {source}"}, latency_ms=12.0))

    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id("history-list")).to_have_attribute("data-count", "4")
    expect(page.get_by_test_id(f"history-source-{from_editor}")).to_have_text("editor")
    for run_id, source in recorded.items():
        badge = page.get_by_test_id(f"history-source-{run_id}")
        expect(badge).to_have_text(source)
        expect(badge).to_have_attribute("data-source", source)
    page.get_by_test_id("history-item-cli-run-0001").click()  # a run recorded elsewhere opens like any other
    expect(page.get_by_test_id("viewing-banner")).to_have_attribute("data-run-id", "cli-run-0001")
    expect(runs.run_status(page)).to_have_attribute("data-run-id", "cli-run-0001")
    expect(page.get_by_test_id("run-input-q")).to_have_value("from cli")

    other = runs.create_pipeline(server.data_dir, two_step(0.05, "not its pipeline"))
    runs.open_pipeline(page, server.base, other, f"?run={from_editor}")
    page.get_by_test_id("tab-run").click()
    expect(page.get_by_test_id("run-problems")).to_contain_text(
        f"Run `{from_editor}` belongs to another pipeline; open it from that pipeline's history.")
    expect(runs.run_status(page)).to_have_attribute("data-run-id", "")


def test_runs_of_a_saved_pipelines_spec_from_the_cli_and_batch_show_in_its_history(server: Server, page: Page,
                                                                                    tmp_path: Path) -> None:
    """`patchwire run` and `patchwire batch` of the spec file record runs without a pipeline id: the History
    tab of the saved pipeline with that spec's name lists them, with their source."""
    data = two_step(0.01, "from the command line")
    pipeline = runs.create_pipeline(server.data_dir, data)
    spec_file, rows, out = tmp_path / "spec.json", tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    spec_file.write_text(json.dumps(data))
    rows.write_text('{"q": "batch one"}\n')
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "PATCHWIRE_DATA_DIR": str(server.data_dir),
           "PATCHWIRE_PLUGINS": str(HERE / "plugin_components.py")}
    patchwire = str(Path(sys.executable).with_name("patchwire"))
    ran = subprocess.run([patchwire, "run", str(spec_file), "--input", "q=cli one", "--json"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert ran.returncode == 0, ran.stderr
    batch = subprocess.run([patchwire, "batch", str(spec_file), str(rows), "-o", str(out), "--quiet"],
                           capture_output=True, text=True, timeout=120, env=env)
    assert batch.returncode == 0, batch.stderr
    from_cli, from_batch = json.loads(ran.stdout)["run_id"], json.loads(out.read_text())["run_id"]

    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id("history-list")).to_have_attribute("data-count", "2")
    expect(page.get_by_test_id(f"history-source-{from_cli}")).to_have_text("cli")
    expect(page.get_by_test_id(f"history-source-{from_batch}")).to_have_text("batch")
