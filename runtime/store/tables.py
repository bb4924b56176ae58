"""SQLModel tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

__all__ = ["ReviewTask", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ReviewTask(SQLModel, table=True):
    """A human review request created by `action.human_review`, decided exactly once."""

    __tablename__ = "review_task"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True)
    run_id: str = Field(index=True)
    node_id: str
    pipeline: str = ""
    queue: str = Field("default", index=True)
    question: str = ""
    draft_answer: str = ""
    score: float | None = None
    context: Any = Field(default=None, sa_column=Column(JSON))
    instructions: str = ""
    status: str = Field("pending", index=True)  # pending | approved | edited | rejected
    final_answer: str | None = None
    reviewer: str | None = None
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
