"""Pinned node outputs (development mocks), stored with the editor's pipeline records, never in the spec.

A pin replaces a node's run in runs started from the editor. It lives in its own table keyed by
pipeline id and node id, so exporting, serving or batch-running a spec can never see it.

A run uses the pins of the pipeline's own nodes only (`Plan.by_id`: no node inside a subflow), so a pin follows its
node through a rename and ends with it (deleted, grouped into a subflow, left out of a restored version or made
another node there: another component, or a flow node running another subflow; its undo brings it back): it never
lands on another node that takes the id later (`editor.state.node_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, delete
from sqlmodel import Field, SQLModel, col, select

from runtime import PipelineSpec
from runtime.store.db import session
from runtime.store.tables import utcnow

from .breakpoint_moves import followed_paths
from .node_rows import Followed, Kept, Plan, follow_rows

__all__ = ["PinRecord", "list_pins", "set_pin", "remove_pin", "remove_pins", "followed_pins", "follow_pins"]


class PinRecord(SQLModel, table=True):
    """Outputs pinned on one node of one pipeline (the table comes from the runtime's migrations)."""

    __tablename__ = "editor_pin"  # pyright: ignore[reportAssignmentType]

    pipeline_id: str = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    outputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    origin: str = ""  # "run <id>" or "typed"
    created_at: datetime = Field(default_factory=utcnow)


def list_pins(pipeline_id: str) -> dict[str, PinRecord]:
    with session() as s:
        rows = s.exec(select(PinRecord).where(PinRecord.pipeline_id == pipeline_id))
        return {row.node_id: row for row in rows}


def set_pin(pipeline_id: str, node_id: str, outputs: dict[str, Any], origin: str) -> PinRecord:
    with session() as s:
        row = s.get(PinRecord, (pipeline_id, node_id))
        if row is None:
            row = PinRecord(pipeline_id=pipeline_id, node_id=node_id)
        row.outputs, row.origin, row.created_at = outputs, origin, utcnow()
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def remove_pin(pipeline_id: str, node_id: str) -> bool:
    with session() as s:
        gone = s.execute(delete(PinRecord).where(col(PinRecord.pipeline_id) == pipeline_id,
                                                 col(PinRecord.node_id) == node_id)).rowcount  # type: ignore[attr-defined]
        s.commit()
    return bool(gone)


def remove_pins(pipeline_id: str) -> None:
    """Every pin of a pipeline (when it is deleted)."""
    with session() as s:
        s.execute(delete(PinRecord).where(col(PinRecord.pipeline_id) == pipeline_id))
        s.commit()


def followed_pins(ids: list[str], before: PipelineSpec, after: PipelineSpec, scope: str,
                  moves: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """`followed_paths` for pins: a pin on a node of the pipeline that an edit moves into a subflow (a group) ends
    too, as no run would use it there."""
    moved, ended = followed_paths(ids, before, after, scope, moves)
    inside = [old for old, new in moved.items() if "/" in new and "/" not in old]
    return {old: new for old, new in moved.items() if old not in inside}, [*ended, *inside]


def follow_pins(pipeline_id: str, plan: Plan, restore: Sequence[Kept] = ()) -> Followed:
    """In one transaction: move and drop the pipeline's pins as `plan` says, then bring back those of `restore` that
    are not there, each with its outputs, origin and age (`node_rows.follow_rows`)."""
    return follow_rows(PinRecord, pipeline_id, plan, restore)
