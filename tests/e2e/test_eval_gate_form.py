"""The Evaluate tab's Gate section and engine choice: a bad rule is explained and not saved, a rule is saved into
the suite file, the run's gate verdict follows it, Publish is refused then accepted by it, removing the
assertion removes its rule; and the experiment runs on the real session Ray cluster (tests/infra)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from . import runs
from .server import Server
from .test_editor_eval import publish, run_experiment, shout_pipeline

ROWS = [{"id": "a", "q": "hello", "expected": "HELLO"}, {"id": "b", "q": "patch", "expected": "PATCH"},
        {"id": "c", "q": "wire", "expected": "NOT THIS"}]  # c fails: 2 of 3 rows pass
ASSERTION = "shout_text_contains"
RAY_TIMEOUT_MS = 180_000


def suite_file(server: Server, pipeline: str) -> dict:
    return json.loads((server.data_dir / "eval" / "suites" / f"{pipeline}.json").read_text())


def open_with_assertion(server: Server, page: Page, tmp_path: Path, name: str) -> str:
    """A shout pipeline with the dataset above and `shout.text contains column expected`; the Evaluate tab shown."""
    pipeline = runs.create_pipeline(server.data_dir, shout_pipeline(name))
    runs.open_pipeline(page, server.base, pipeline)
    page.get_by_test_id("eval-tab").click()
    dataset = tmp_path / "gate_rows.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    page.get_by_test_id("eval-upload").locator("input[type=file]").set_input_files(str(dataset))
    expect(page.get_by_test_id("eval-preview")).to_have_attribute("data-rows", "3")
    page.get_by_test_id("eval-assert-type").select_option("contains")
    page.get_by_test_id("eval-assert-node").fill("shout")
    page.get_by_test_id("eval-assert-port").fill("text")
    page.get_by_test_id("eval-assert-column").fill("expected")
    page.get_by_test_id("eval-assert-add").click()
    expect(page.get_by_test_id(f"eval-assertion-{ASSERTION}")).to_be_visible()
    return pipeline


def save_gate(page: Page, **fields: str) -> None:
    """Fill the gate's fields (test id suffix -> text) and press Save gate; wait until it was saved."""
    form = page.get_by_test_id("eval-gate-form")
    saved = int(form.get_attribute("data-saved") or "0")
    for suffix, text in fields.items():
        page.get_by_test_id(f"eval-gate-{suffix}").fill(text)
    page.get_by_test_id("eval-gate-save").click()
    expect(form).to_have_attribute("data-saved", str(saved + 1))
    expect(page.get_by_test_id("eval-gate-error")).to_have_count(0)


def test_gate_rules_are_edited_saved_and_held_by_the_run_and_publish(server: Server, page: Page,
                                                                     tmp_path: Path) -> None:
    pipeline = open_with_assertion(server, page, tmp_path, "gate rules in the editor")
    rate = page.get_by_test_id(f"eval-gate-rate-{ASSERTION}")
    expect(rate).to_have_value("")  # no rule yet
    expect(page.get_by_test_id("eval-gate-max-regressions")).to_have_value("0")  # the default of a new suite

    # Bad input: said inline, naming the field; nothing saved.
    rate.fill("120")
    page.get_by_test_id("eval-gate-max-regressions").fill("-1")
    page.get_by_test_id("eval-gate-save").click()
    error = page.get_by_test_id("eval-gate-error")
    expect(error).to_contain_text(f"Least pass rate of `{ASSERTION}`: 120 is outside 0–100%")
    expect(error).to_contain_text("Most regressed rows: `-1` is not a whole number of rows 0 or more")
    assert suite_file(server, pipeline)["gate"] == {"max_regressions": 0}

    # A rule that every row must pass: saved into the suite file `patchwire eval` reads.
    save_gate(page, **{f"rate-{ASSERTION}": "100", "max-regressions": "0", "max-latency": "50"})
    assert suite_file(server, pipeline)["gate"] == {"min_pass_rate": {ASSERTION: 1.0}, "max_regressions": 0,
                                                    "max_latency_p95_increase": 0.5}
    expect(page.get_by_test_id("eval-gate-max-latency")).to_have_value("50")

    # The run's verdict holds it: 2 of 3 rows pass, below 100%; Publish is refused, saying so.
    run_experiment(page, "")
    verdict = page.get_by_test_id("eval-gate-verdict")
    expect(verdict).to_have_attribute("data-verdict", "failed")
    expect(page.get_by_test_id("eval-gate-reasons")).to_contain_text(
        f"`{ASSERTION}` pass rate 66.7% is below the required 100.0%")
    publish(page, "refused")
    expect(page.get_by_test_id("eval-publish-reasons")).to_contain_text(
        f"`{ASSERTION}` pass rate 66.7% is below the required 100.0%")

    # Loosened to 60%: the verdict follows at once and Publish accepts the same experiment.
    save_gate(page, **{f"rate-{ASSERTION}": "60%"})
    expect(verdict).to_have_attribute("data-verdict", "passed")
    assert suite_file(server, pipeline)["gate"]["min_pass_rate"] == {ASSERTION: 0.6}
    publish(page, "published")
    expect(page.get_by_test_id("eval-publish-status")).to_contain_text("the gate of suite")

    # Removing the assertion removes its rule (and its field).
    page.get_by_test_id(f"eval-remove-{ASSERTION}").click()
    expect(rate).to_have_count(0)
    expect(page.get_by_test_id("eval-assertions")).to_have_count(0)
    assert suite_file(server, pipeline)["gate"]["min_pass_rate"] == {}


def test_the_experiment_runs_on_the_ray_cluster(server: Server, page: Page, tmp_path: Path, ray_cluster) -> None:
    pipeline = open_with_assertion(server, page, tmp_path, "eval on ray in the editor")
    page.get_by_test_id("eval-engine").select_option("ray")
    address = page.get_by_test_id("eval-ray-address")
    address.fill("not an address")
    address.blur()
    expect(page.get_by_test_id("eval-engine-error")).to_contain_text("Ray address `not an address`: give HOST:PORT")
    saved = suite_file(server, pipeline)  # the engine is saved, the bad address is not
    assert (saved["engine"], saved["ray_address"]) == ("ray", None)
    address.fill(f"127.0.0.1:{ray_cluster.port}")
    address.blur()
    expect(page.get_by_test_id("eval-engine-error")).to_have_count(0)
    expect(page.get_by_test_id("eval-engine-choice")).to_have_attribute("data-address", f"127.0.0.1:{ray_cluster.port}")
    saved = suite_file(server, pipeline)
    assert (saved["engine"], saved["ray_address"]) == ("ray", f"127.0.0.1:{ray_cluster.port}")

    # The same results as the local engine would give, every row done (Ray's workers start on first use: slower).
    page.get_by_test_id("eval-run").click()
    expect(page.get_by_test_id("eval-progress")).to_have_attribute("data-running", "true")
    expect(page.get_by_test_id("eval-results")).to_have_count(1, timeout=RAY_TIMEOUT_MS)
    expect(page.get_by_test_id("eval-progress")).to_have_attribute("data-done", "3")
    expect(page.get_by_test_id("eval-progress")).to_have_attribute("data-running", "false")
    expect(page.get_by_test_id("eval-score")).to_have_text("66.7%")
    expect(page.get_by_test_id(f"eval-cell-c-{ASSERTION}")).to_have_attribute("data-passed", "false")
    expect(page.get_by_test_id(f"eval-cell-a-{ASSERTION}")).to_have_attribute("data-passed", "true")
    expect(page.get_by_test_id("eval-row-a")).not_to_have_attribute("data-run-id", "")
