"""action.log, action.human_review and logic.pick_best through the real runtime."""

from __future__ import annotations

import pytest

from components_catalog.actions import HumanReview, LogAction
from components_catalog.selection import PickBest
from runtime import NodeLog, Registry, execute, run
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.store import get_review, list_reviews
from runtime.testing.components import Constant, Delay
from runtime.testing.specs import make_spec

REGISTRY = Registry([PipelineInput, PipelineOutput, HumanReview, LogAction, PickBest, Constant, Delay])


pytestmark = pytest.mark.usefixtures("fresh_database")


async def test_human_review_stores_a_pending_task_with_everything_the_reviewer_needs():
    spec = make_spec({"q": ("io.input", {}), "draft": ("io.input", {}), "score": ("io.input", {"type": "number"}),
                      "review": ("action.human_review", {"queue": "support", "instructions": "Check facts"}),
                      "task": ("io.output", {}), "status": ("io.output", {})},
                     [("q", "value", "review", "question"), ("draft", "value", "review", "draft_answer"),
                      ("score", "value", "review", "score"), ("review", "task_id", "task", "value"),
                      ("review", "status", "status", "value")])
    result = await run(spec, {"q": "Why?", "draft": "Because.", "score": 0.2}, registry=REGISTRY)
    assert result.status == "succeeded", result.error
    task = get_review(result.outputs["task"])
    assert result.outputs["status"] == "pending"
    assert (task.run_id, task.node_id, task.queue, task.question, task.draft_answer, task.score, task.instructions) \
        == (result.run_id, "review", "support", "Why?", "Because.", 0.2, "Check facts")
    assert [t.id for t in list_reviews()] == [task.id]


async def test_log_writes_a_structured_record_and_passes_the_value_on():
    spec = make_spec({"q": ("io.input", {}), "log": ("action.log", {"level": "warning", "message": "seen"}),
                      "out": ("io.output", {})},
                     [("q", "value", "log", "value"), ("log", "value", "out", "value")])
    events = [e async for e in execute(spec, {"q": "payload"}, registry=REGISTRY)]
    logs = [e for e in events if isinstance(e, NodeLog)]
    assert [(e.node_id, e.record) for e in logs] == [("log", {"message": "seen", "level": "warning",
                                                              "value": "payload"})]
    assert events[-1].outputs == {"out": "payload"}


def pick_spec(prefer: str = "highest"):
    nodes = {"a": ("demo.constant", {"value": "answer A"}), "b": ("demo.constant", {"value": "answer B"}),
             "sa": ("io.input", {"type": "number"}), "sb": ("io.input", {"type": "number"}),
             "pick": ("logic.pick_best", {"prefer": prefer}), "best": ("io.output", {}), "index": ("io.output", {})}
    edges = [("a", "value", "pick", "candidates"), ("b", "value", "pick", "candidates"),
             ("sa", "value", "pick", "scores"), ("sb", "value", "pick", "scores"),
             ("pick", "best", "best", "value"), ("pick", "index", "index", "value")]
    return make_spec(nodes, edges)


@pytest.mark.parametrize("prefer, scores, best", [
    ("highest", (0.2, 0.9), "answer B"), ("highest", (0.9, 0.2), "answer A"),
    ("highest", (0.5, 0.5), "answer A"),  # a tie goes to the earlier edge
    ("lowest", (0.2, 0.9), "answer A"),
])
async def test_pick_best_keeps_the_best_scoring_candidate(prefer, scores, best):
    result = await run(pick_spec(prefer), {"sa": scores[0], "sb": scores[1]}, registry=REGISTRY)
    assert result.outputs["best"] == best


async def test_pick_best_refuses_misaligned_inputs_with_the_fix():
    spec = make_spec({"a": ("demo.constant", {"value": "A"}), "b": ("demo.constant", {"value": "B"}),
                      "s": ("io.input", {"type": "number"}), "pick": ("logic.pick_best", {}), "out": ("io.output", {})},
                     [("a", "value", "pick", "candidates"), ("b", "value", "pick", "candidates"),
                      ("s", "value", "pick", "scores"), ("pick", "best", "out", "value")])
    result = await run(spec, {"s": 1.0}, registry=REGISTRY)
    assert result.nodes["pick"].error["message"] == (
        "Node `pick`: got 2 candidates and 1 scores; wire one score per candidate, in the same order "
        "(a skipped branch drops both its candidate and its score).")
