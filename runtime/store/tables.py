"""SQLModel tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

__all__ = ["ReviewTask", "RunRecord", "NodeRecord", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ReviewTask(SQLModel, table=True):
    """A human review request created by `action.human_review`, decided exactly once."""

    __tablename__ = "review_task"  # pyright: ignore[reportAssignmentType]

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True)
    run_id: str = Field(index=True)
    node_id: str
    pipeline: str = ""
    queue: str = Field(default="default", index=True)
    question: str = ""
    draft_answer: str = ""
    score: float | None = None
    context: Any = Field(default=None, sa_column=Column(JSON))
    instructions: str = ""
    status: str = Field(default="pending", index=True)  # pending | approved | edited | rejected
    final_answer: str | None = None
    reviewer: str | None = None
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class RunRecord(SQLModel, table=True):
    """One run of a pipeline, with the exact spec it ran."""

    __tablename__ = "run_record"  # pyright: ignore[reportAssignmentType]

    id: str = Field(primary_key=True)
    pipeline_id: str | None = Field(default=None, index=True)
    pipeline_name: str = ""
    spec: Any = Field(default=None, sa_column=Column(JSON))
    source: str = "api"  # editor | cli | batch | serve | openai | mcp | eval | api
    status: str = Field(default="running", index=True)  # running | succeeded | failed | cancelled | interrupted
    inputs: Any = Field(default=None, sa_column=Column(JSON))
    outputs: Any = Field(default=None, sa_column=Column(JSON))
    error: Any = Field(default=None, sa_column=Column(JSON))
    latency_ms: float | None = None
    node_latency_sum_ms: float | None = None
    total_tokens: int = 0
    cost_usd: float | None = None
    final_answer: str | None = None  # set when a human reviewer approves or edits the run's answer
    review: Any = Field(default=None, sa_column=Column(JSON))  # {task_id, status, reviewer, decided_at}
    egress: Any = Field(default=None, sa_column=Column(JSON))  # outbound calls: [{host, port, node, kind, ts}]
    breakpoint_edits: Any = Field(default=None, sa_column=Column(JSON))  # ids of nodes whose inputs were edited
    # at a breakpoint (`runtime.debug`), in the order they were; None: no edit
    owner: str = ""  # host:pid of the process running it, to detect runs whose process died
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    heartbeat_at: datetime = Field(default_factory=utcnow)


class NodeRecord(SQLModel, table=True):
    """What one node of one run did: inputs, outputs, trace, error — stored in full."""

    __tablename__ = "node_record"  # pyright: ignore[reportAssignmentType]

    run_id: str = Field(primary_key=True, foreign_key="run_record.id", ondelete="CASCADE")
    node_id: str = Field(primary_key=True)
    status: str = "queued"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    latency_ms: float | None = None
    attempts: int = 0
    inputs: Any = Field(default=None, sa_column=Column(JSON))
    outputs: Any = Field(default=None, sa_column=Column(JSON))
    error: Any = Field(default=None, sa_column=Column(JSON))
    retries: Any = Field(default=None, sa_column=Column(JSON))
    trace: Any = Field(default=None, sa_column=Column(JSON))
    logs: Any = Field(default=None, sa_column=Column(JSON))
    skip_reason: str | None = None
    cache_hit: bool = False
    edited_inputs: Any = Field(default=None, sa_column=Column(JSON))  # edited at a breakpoint: {port: {before, after}}
