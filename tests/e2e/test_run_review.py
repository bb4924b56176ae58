"""Human review: a low-score answer lands in the review inbox; the decision is taken exactly once and the
run then shows the final answer."""

from __future__ import annotations

import json

from playwright.sync_api import BrowserContext, Page, expect

from . import runs, ui
from .server import ROOT, Server

OFF_TOPIC = "What is the boiling point of mercury on Venus?"


def _open_inbox(page: Page, base: str, query: str = "") -> None:
    page.goto(f"{base}/reviews{query}")
    expect(page.locator("#hydrated")).to_have_text("yes", timeout=20_000)
    expect(page.get_by_test_id("review-inbox")).to_have_attribute("data-loaded", "true")


def test_a_low_score_answer_is_reviewed_once_and_the_run_shows_the_final_answer(
        server: Server, page: Page, context: BrowserContext) -> None:
    template = json.loads((ROOT / "templates" / "rag_review.json").read_text())
    pipeline = runs.create_pipeline(server.data_dir, {**template, "name": "rag to review"})
    runs.open_pipeline(page, server.base, pipeline)
    run_id = runs.start_run(page, query=OFF_TOPIC)
    runs.wait_run(page, "succeeded")
    runs.expect_node(page, "gate", "succeeded", timeout=1000)
    runs.expect_node(page, "review", "succeeded", timeout=1000)
    runs.expect_node(page, "answer", "skipped", timeout=1000)
    expect(page.get_by_test_id("run-output-score")).to_contain_text("0")
    expect(page.get_by_test_id("review-inbox-link")).not_to_have_attribute("data-pending", "0")

    # The run links to its task in the inbox; a second reviewer has the same task open in another tab.
    link = page.get_by_test_id("run-review-link")
    task_id = (link.get_attribute("href") or "").split("task=")[1]
    other = context.new_page()
    _open_inbox(other, server.base, f"?task={task_id}")
    link.click()
    page.wait_for_url("**/reviews?task=*")
    expect(page.get_by_test_id("review-inbox")).to_have_attribute("data-loaded", "true")
    item = page.get_by_test_id(f"review-item-{task_id}")
    expect(item).to_have_attribute("data-status", "pending")
    expect(item).to_contain_text(OFF_TOPIC)
    detail = page.get_by_test_id("review-detail")
    expect(detail).to_have_attribute("data-task-id", task_id)
    expect(detail.get_by_test_id("review-question")).to_have_text(OFF_TOPIC)
    expect(detail.get_by_test_id("review-score")).to_have_text("score 0.00")
    expect(detail.get_by_test_id("review-draft")).to_contain_text("found no context to answer from")
    expect(detail.get_by_test_id("review-no-context")).to_be_visible()

    page.get_by_test_id("review-approve").click()
    expect(page.get_by_test_id("review-message")).to_have_text(
        "Approved. The run now shows the decision and the final answer.")
    expect(page.get_by_test_id("review-status")).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("review-approve")).to_have_count(0)
    expect(page.get_by_test_id("review-final")).to_contain_text("found no context to answer from")

    # The other tab still shows the task as pending: its decision is refused, the first one stands.
    other.get_by_test_id("review-edit-text").fill("A different answer")
    other.get_by_test_id("review-edit").click()
    expect(other.get_by_test_id("review-message")).to_contain_text(f"Review `{task_id}` was already approved by editor")
    expect(other.get_by_test_id("review-message")).to_contain_text("the first decision stands")
    expect(other.get_by_test_id("review-status")).to_have_attribute("data-status", "approved")
    other.close()

    page.get_by_test_id("review-run-link").click()
    page.wait_for_url(f"**/pipelines/{pipeline}?run={run_id}")
    ui.wait_ready(page)
    expect(runs.run_status(page)).to_have_attribute("data-run-id", run_id)
    page.get_by_test_id("tab-run").click()
    final = page.get_by_test_id("run-final-answer")
    expect(final).to_contain_text("found no context to answer from")
    expect(final).to_contain_text("approved by a reviewer")
    expect(page.get_by_test_id("run-review-link")).to_have_count(0)


def test_a_reviewer_can_correct_or_reject_an_answer(server: Server, page: Page) -> None:
    template = json.loads((ROOT / "templates" / "rag_review.json").read_text())
    pipeline = runs.create_pipeline(server.data_dir, {**template, "name": "rag to correct"})
    runs.open_pipeline(page, server.base, pipeline)
    tasks = {}
    for decision in ("edit", "reject"):
        run_id = runs.start_run(page, query=f"{OFF_TOPIC} ({decision})")
        runs.wait_run(page, "succeeded")
        tasks[decision] = (run_id, (page.get_by_test_id("run-review-link").get_attribute("href") or "").split("=")[1])

    _open_inbox(page, server.base)
    for _, task_id in tasks.values():
        expect(page.get_by_test_id(f"review-item-{task_id}")).to_have_attribute("data-status", "pending")
    edit_task = tasks["edit"][1]
    page.get_by_test_id(f"review-item-{edit_task}").click()
    expect(page.get_by_test_id("review-detail")).to_have_attribute("data-task-id", edit_task)
    page.get_by_test_id("review-edit-text").fill("")
    page.get_by_test_id("review-edit").click()
    expect(page.get_by_test_id("review-message")).to_have_text("An edit needs the corrected answer.")
    page.get_by_test_id("review-edit-text").fill("Mercury boils at about 357 °C; Venus is not in our docs.")
    page.get_by_test_id("review-edit").click()
    expect(page.get_by_test_id("review-message")).to_have_text(
        "Edited and approved. The run now shows the decision and the final answer.")
    reject_task = tasks["reject"][1]
    page.get_by_test_id(f"review-item-{reject_task}").click()
    expect(page.get_by_test_id("review-detail")).to_have_attribute("data-task-id", reject_task)
    page.get_by_test_id("review-reject").click()
    expect(page.get_by_test_id("review-message")).to_have_text(
        "Rejected. The run now shows the decision (no final answer).")
    expect(page.get_by_test_id(f"review-item-{reject_task}")).to_have_attribute("data-status", "rejected")

    runs.open_pipeline(page, server.base, pipeline, f"?run={tasks['edit'][0]}")
    page.get_by_test_id("tab-run").click()
    expect(page.get_by_test_id("run-final-answer")).to_contain_text("Mercury boils at about 357 °C")
    expect(page.get_by_test_id("run-final-answer")).to_contain_text("edited by a reviewer")
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id(f"history-item-{tasks['reject'][0]}")).to_contain_text("rejected")
    page.get_by_test_id(f"history-item-{tasks['reject'][0]}").click()
    page.get_by_test_id("tab-run").click()
    expect(page.get_by_test_id("run-final-answer")).to_have_text(
        "The reviewer rejected the answer: there is no final answer.")
