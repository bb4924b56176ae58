"""Review tasks in a real database (SQLite and PostgreSQL): persisted, listed, decided exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runtime.store import (
    AlreadyDecided,
    ReviewNotFound,
    create_review,
    decide_review,
    get_review,
    list_reviews,
)
from runtime.store.db import reset_engines

pytestmark = pytest.mark.usefixtures("database")  # SQLite and PostgreSQL


def make_task(**overrides):
    fields = {"run_id": "run1", "node_id": "review", "question": "Q?", "draft_answer": "draft", "score": 0.2,
              "context": [{"id": "d1", "text": "ctx"}]}
    return create_review(**{**fields, **overrides})


def test_a_task_is_stored_and_listed_while_pending():
    task = make_task()
    assert [t.id for t in list_reviews()] == [task.id]
    stored = get_review(task.id)
    assert (stored.status, stored.question, stored.score, stored.context) == ("pending", "Q?", 0.2,
                                                                             [{"id": "d1", "text": "ctx"}])


@pytest.mark.parametrize("decision, answer, status, final", [
    ("approve", None, "approved", "draft"),
    ("edit", "fixed answer", "edited", "fixed answer"),
    ("reject", None, "rejected", None),
])
def test_each_decision_records_the_final_answer(decision, answer, status, final):
    task = make_task()
    decided = decide_review(task.id, decision, answer=answer, reviewer="ana")
    assert (decided.status, decided.final_answer, decided.reviewer) == (status, final, "ana")
    assert decided.decided_at is not None
    assert list_reviews() == []
    assert [t.id for t in list_reviews(status)] == [task.id]


def test_deciding_twice_is_refused_and_the_first_decision_stands():
    task = make_task()
    decide_review(task.id, "approve", reviewer="ana")
    with pytest.raises(AlreadyDecided, match=f"Review `{task.id}` was already approved by ana; the first "
                                             "decision stands."):
        decide_review(task.id, "reject", reviewer="bob")
    assert get_review(task.id).status == "approved"


def test_concurrent_decisions_let_exactly_one_win():
    task = make_task()
    outcomes: list[str] = []

    def decide(who: str) -> None:
        try:
            decide_review(task.id, "approve", reviewer=who)
            outcomes.append("won")
        except AlreadyDecided:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["won"]


def test_an_edit_needs_an_answer_and_unknown_tasks_are_reported():
    task = make_task()
    with pytest.raises(ValueError, match="An edit needs the corrected answer."):
        decide_review(task.id, "edit", answer="  ")
    with pytest.raises(ReviewNotFound, match="No review task `nope`."):
        decide_review("nope", "approve")


def test_tasks_survive_a_restart(tmp_path: Path):
    task = make_task(question="survives?")
    reset_engines()  # this process lets go of the database; another process reads it
    code = ("from runtime.store import get_review, decide_review\n"
            f"print(get_review('{task.id}').question)\n"
            f"print(decide_review('{task.id}', 'approve').status)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["survives?", "approved"], proc.stderr
    assert get_review(task.id).status == "approved"
