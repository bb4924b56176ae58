"""Human review tasks: created by a run, decided later by a person, exactly once."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import update
from sqlmodel import col, select

from .db import fetch, insert, session
from .tables import ReviewTask, RunRecord, utcnow

__all__ = ["create_review", "get_review", "list_reviews", "decide_review", "ReviewDecision", "AlreadyDecided",
           "ReviewNotFound"]

ReviewDecision = Literal["approve", "edit", "reject"]
_STATUS = {"approve": "approved", "edit": "edited", "reject": "rejected"}


class ReviewNotFound(LookupError):
    pass


class AlreadyDecided(RuntimeError):
    """Deciding a task twice is refused: the first decision stands."""


def create_review(*, run_id: str, node_id: str, pipeline: str = "", queue: str = "default", question: str = "",
                  draft_answer: str = "", score: float | None = None, context: Any = None,
                  instructions: str = "") -> ReviewTask:
    return insert(ReviewTask(run_id=run_id, node_id=node_id, pipeline=pipeline, queue=queue, question=question,
                             draft_answer=draft_answer, score=score, context=context, instructions=instructions))


def get_review(task_id: str) -> ReviewTask:
    return fetch(ReviewTask, task_id, ReviewNotFound(f"No review task `{task_id}`."))


def list_reviews(status: str | None = "pending", *, run_id: str | None = None, limit: int = 200) -> list[ReviewTask]:
    query = select(ReviewTask).order_by(col(ReviewTask.created_at).desc()).limit(limit)
    if status is not None:
        query = query.where(ReviewTask.status == status)
    if run_id is not None:
        query = query.where(ReviewTask.run_id == run_id)
    with session() as s:
        return list(s.exec(query))


def decide_review(task_id: str, decision: ReviewDecision, *, answer: str | None = None, reviewer: str | None = None,
                  comment: str | None = None) -> ReviewTask:
    """Record a decision; one conditional UPDATE makes it exactly-once even across processes."""
    if decision not in _STATUS:
        raise ValueError(f"decision must be approve, edit or reject, got {decision!r}")
    if decision == "edit" and not (answer or "").strip():
        raise ValueError("An edit needs the corrected answer.")
    current = get_review(task_id)
    final = {"approve": current.draft_answer, "edit": answer, "reject": None}[decision]
    statement = (update(ReviewTask).where(col(ReviewTask.id) == task_id, col(ReviewTask.status) == "pending")
                 .values(status=_STATUS[decision], final_answer=final, reviewer=reviewer, comment=comment,
                         decided_at=utcnow()))
    with session() as s:
        changed = s.execute(statement).rowcount  # type: ignore[attr-defined]
        s.commit()
    if changed != 1:
        latest = get_review(task_id)
        raise AlreadyDecided(f"Review `{task_id}` was already {latest.status}"
                             f"{' by ' + latest.reviewer if latest.reviewer else ''}; the first decision stands.")
    decided = get_review(task_id)
    _record_on_run(decided)
    return decided


def _record_on_run(task: ReviewTask) -> None:
    """The run that asked for the review shows the decision and, unless rejected, the final answer."""
    review = {"task_id": task.id, "status": task.status, "reviewer": task.reviewer, "comment": task.comment,
              "decided_at": task.decided_at.isoformat() if task.decided_at else None}
    statement = (update(RunRecord).where(col(RunRecord.id) == task.run_id)
                 .values(review=review, final_answer=task.final_answer))
    with session() as s:
        s.execute(statement)
        s.commit()
