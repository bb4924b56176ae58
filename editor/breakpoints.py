"""Breakpoints of the editor's pipelines: stored beside the pipeline records like pins, never in the spec.

A breakpoint pauses runs started from the editor before its node (`runtime.debug`). It lives in its own
table keyed by pipeline id and node id, so exporting, serving or batch-running a spec never sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Field, SQLModel, col, select

from runtime.store.db import session
from runtime.store.tables import utcnow

from .node_rows import Followed, Kept, Plan, follow_rows

__all__ = ["BreakpointRecord", "Kept", "Followed", "list_breakpoints", "set_breakpoints", "follow_breakpoints",
           "remove_breakpoints"]


class BreakpointRecord(SQLModel, table=True):
    """A breakpoint on one node of one pipeline (the table comes from the runtime's migrations)."""

    __tablename__ = "editor_breakpoint"  # pyright: ignore[reportAssignmentType]

    pipeline_id: str = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


def list_breakpoints(pipeline_id: str) -> list[str]:
    """The node ids with a breakpoint, oldest first."""
    with session() as s:
        rows = s.exec(select(BreakpointRecord).where(BreakpointRecord.pipeline_id == pipeline_id)
                      .order_by(col(BreakpointRecord.created_at)))
        return [row.node_id for row in rows]


def set_breakpoints(pipeline_id: str, node_ids: list[str], on: bool) -> list[str]:
    """Add (`on`) or remove breakpoints on these nodes; the pipeline's breakpoints afterwards."""
    with session() as s:
        if on:
            for node_id in node_ids:
                if s.get(BreakpointRecord, (pipeline_id, node_id)) is None:
                    s.add(BreakpointRecord(pipeline_id=pipeline_id, node_id=node_id))
        else:
            s.execute(delete(BreakpointRecord).where(col(BreakpointRecord.pipeline_id) == pipeline_id,
                                                     col(BreakpointRecord.node_id).in_(node_ids)))
        s.commit()
    return list_breakpoints(pipeline_id)


def follow_breakpoints(pipeline_id: str, plan: Plan, restore: Sequence[Kept] = ()) -> Followed:
    """In one transaction: read the pipeline's breakpoints, move and drop them as `plan` says, then bring back those
    of `restore` that are not there (what the edit being undone or redone dropped), each keeping its age."""
    return follow_rows(BreakpointRecord, pipeline_id, plan, restore)


def remove_breakpoints(pipeline_id: str) -> None:
    """Every breakpoint of a pipeline (when it is deleted)."""
    with session() as s:
        s.execute(delete(BreakpointRecord).where(col(BreakpointRecord.pipeline_id) == pipeline_id))
        s.commit()
