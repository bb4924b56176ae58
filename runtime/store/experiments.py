"""Stored experiments (`patchwire eval`): the suite, the exact spec and dataset hashes, per-row results linked
to the run history, and the report; plus which pipeline version is published."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy import insert as insert_many
from sqlmodel import Field, SQLModel, col, select

from .db import insert, session
from .tables import utcnow

__all__ = ["Experiment", "ExperimentRow", "Publication", "ExperimentNotFound", "save_experiment", "get_experiment",
           "latest_experiment", "list_experiments", "experiment_rows", "add_publication", "current_publication"]


class ExperimentNotFound(LookupError):
    pass


class Experiment(SQLModel, table=True):
    """One `patchwire eval` of a suite against one pipeline version."""

    __tablename__ = "eval_experiment"  # pyright: ignore[reportAssignmentType]

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16], primary_key=True)
    suite_name: str = Field(index=True)
    suite: Any = Field(default=None, sa_column=Column(JSON))
    pipeline_name: str = ""
    pipeline_id: str | None = Field(default=None, index=True)
    pipeline_version: int | None = Field(default=None, index=True)  # a saved version's id
    spec_sha256: str = Field(default="", index=True)
    spec: Any = Field(default=None, sa_column=Column(JSON))
    dataset: str = ""
    dataset_sha256: str = ""
    score: float | None = None
    gate_passed: bool | None = None
    report: Any = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ExperimentRow(SQLModel, table=True):
    """One dataset row of an experiment: its runs (run_record ids) and each assertion's result."""

    __tablename__ = "eval_row"  # pyright: ignore[reportAssignmentType]

    experiment_id: str = Field(primary_key=True, foreign_key="eval_experiment.id", ondelete="CASCADE")
    row_index: int = Field(primary_key=True)
    row_id: Any = Field(default=None, sa_column=Column(JSON))
    status: str = ""
    passed: bool = False
    run_ids: Any = Field(default=None, sa_column=Column(JSON))
    assertions: Any = Field(default=None, sa_column=Column(JSON))


class Publication(SQLModel, table=True):
    """A pipeline version marked published; the newest row per pipeline is the published one."""

    __tablename__ = "pipeline_publication"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: str = Field(index=True)
    version_id: int
    experiment_id: str | None = None
    gate: Any = Field(default=None, sa_column=Column(JSON))
    published_at: datetime = Field(default_factory=utcnow, index=True)


def save_experiment(experiment: Experiment, records: list[dict[str, Any]]) -> Experiment:
    """Store the experiment and its rows in one transaction."""
    rows = [{"experiment_id": experiment.id, "row_index": record["row"], "row_id": record.get("id"),
             "status": record.get("status", ""), "passed": all(r["passed"] for r in record["assertions"].values()),
             "run_ids": record.get("run_ids", []), "assertions": record["assertions"]} for record in records]
    with session() as s:
        s.add(experiment)
        s.flush()
        if rows:  # one executemany, not an ORM object per row
            s.execute(insert_many(ExperimentRow), rows)
        s.commit()
    return experiment


def get_experiment(experiment_id: str) -> Experiment:
    with session() as s:
        found = s.get(Experiment, experiment_id)
        if found is None:  # a unique prefix is enough, like a git hash
            matches = list(s.exec(select(Experiment).where(col(Experiment.id).startswith(experiment_id)).limit(2)))
            found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise ExperimentNotFound(f"No stored experiment `{experiment_id}`: `patchwire eval` prints each experiment's "
                                 "id (and stores it in DATABASE_URL).")
    return found


def latest_experiment(suite_name: str, *, pipeline_version: int | None = None, pipeline_id: str | None = None,
                      before: str | None = None) -> Experiment | None:
    query = select(Experiment).where(col(Experiment.suite_name) == suite_name)
    if pipeline_version is not None:
        query = query.where(col(Experiment.pipeline_version) == pipeline_version)
    if pipeline_id is not None:
        query = query.where(col(Experiment.pipeline_id) == pipeline_id)
    if before is not None:
        query = query.where(col(Experiment.id) != before)
    with session() as s:
        return s.exec(query.order_by(col(Experiment.created_at).desc()).limit(1)).first()


def list_experiments(limit: int = 50) -> list[Experiment]:
    with session() as s:
        return list(s.exec(select(Experiment).order_by(col(Experiment.created_at).desc()).limit(limit)))


def experiment_rows(experiment_id: str) -> list[ExperimentRow]:
    query = select(ExperimentRow).where(col(ExperimentRow.experiment_id) == experiment_id).order_by(
        col(ExperimentRow.row_index))
    with session() as s:
        return list(s.exec(query))


def add_publication(pipeline_id: str, version_id: int, experiment_id: str | None, gate: Any) -> Publication:
    return insert(Publication(pipeline_id=pipeline_id, version_id=version_id, experiment_id=experiment_id, gate=gate))


def current_publication(pipeline_id: str) -> Publication | None:
    query = (select(Publication).where(col(Publication.pipeline_id) == pipeline_id)
             .order_by(col(Publication.published_at).desc(), col(Publication.id).desc()).limit(1))
    with session() as s:
        return s.exec(query).first()
