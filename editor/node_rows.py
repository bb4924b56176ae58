"""Rows the editor keeps per node beside a pipeline, outside the spec (breakpoints, pins): moved to a node's new id
and dropped with it in one transaction, as an edit says (`editor.breakpoint_moves`), and brought back by its undo.

A table here is keyed by `pipeline_id` and `node_id` and has a `created_at` (the order its rows are listed in).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import SQLModel, col, select

from runtime.store.db import session

__all__ = ["Kept", "Plan", "Followed", "follow_rows"]

Kept = dict[str, Any]  # a deleted row as an undo brings it back: every column (its node id, its age, its values)
Plan = Callable[[list[str]], tuple[dict[str, str], list[str]]]  # stored ids -> (moved {old: new}, dropped)


@dataclass(frozen=True, slots=True)
class Followed:
    ids: list[str]  # the pipeline's node ids in the table afterwards, oldest first
    dropped: list[Kept]  # the rows it deleted
    changed: bool


def follow_rows(table: type[SQLModel], pipeline_id: str, plan: Plan, restore: Sequence[Kept] = ()) -> Followed:
    """In one transaction: read the pipeline's rows of `table`, move and drop them as `plan` says, then bring back
    those of `restore` whose node id is free (what the edit being undone or redone dropped), each keeping its age and
    values. A row moved onto an id that has one already is dropped (one row per node)."""
    by_pipeline = col(table.pipeline_id) == pipeline_id  # type: ignore[attr-defined]
    oldest_first = col(table.created_at)  # type: ignore[attr-defined]
    with session() as s:
        rows = list(s.exec(select(table).where(by_pipeline).order_by(oldest_first)))
        moved, dropped = plan([row.node_id for row in rows])  # type: ignore[attr-defined]
        ending = set(dropped)
        gone = [row.model_dump() for row in rows if row.node_id in moved or row.node_id in ending]  # type: ignore[attr-defined]
        kept = [{**row, "node_id": moved[row["node_id"]]} for row in gone if row["node_id"] in moved]
        lost = [row for row in gone if row["node_id"] not in moved]
        for row in rows:
            if row.node_id in moved or row.node_id in ending:  # type: ignore[attr-defined]
                s.delete(row)
        s.flush()
        added = 0
        for values in [*kept, *restore]:
            if s.get(table, (pipeline_id, values["node_id"])) is None:
                s.add(table(**{**values, "pipeline_id": pipeline_id}))
                s.flush()
                added += 1
        s.commit()
        ids = [row.node_id for row in s.exec(select(table).where(by_pipeline).order_by(oldest_first))]  # type: ignore[attr-defined]
    return Followed(ids, lost, bool(gone) or added > 0)
