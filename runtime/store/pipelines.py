"""Saved pipelines: the editor's autosaved specs, their named versions, and an optimistic revision check.

Every save names the revision it was based on; a save based on an older revision is refused with
`RevisionConflict`, so two tabs on one pipeline never silently overwrite each other. A spec holding a
literal credential header (not `${secret:NAME}`) is refused with `LiteralCredentialError`: it is never
written in plain text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, delete, update
from sqlmodel import Field, SQLModel, col, func, select

from ..secrets import LiteralCredentialError, literal_credentials
from .db import fetch, insert, session
from .tables import utcnow

__all__ = ["PipelineRecord", "PipelineVersion", "PipelineSummary", "PipelineNotFound", "RevisionConflict",
           "create_pipeline", "get_pipeline", "save_pipeline", "list_pipelines", "most_recent_pipeline",
           "rename_pipeline", "duplicate_pipeline", "delete_pipeline", "save_version", "list_versions",
           "get_version", "pipeline_count", "LiteralCredentialError"]


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class PipelineRecord(SQLModel, table=True):
    """The current spec of one pipeline; `revision` grows by one on every save."""

    __tablename__ = "pipeline"  # pyright: ignore[reportAssignmentType]

    id: str = Field(default_factory=_new_id, primary_key=True)
    name: str
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class PipelineVersion(SQLModel, table=True):
    """A named snapshot of a pipeline's spec (e.g. "before the reranker")."""

    __tablename__ = "pipeline_version"  # pyright: ignore[reportAssignmentType]

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: str = Field(index=True)
    label: str
    revision: int
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """One row of the pipelines list (no spec body)."""

    id: str
    name: str
    revision: int
    node_count: int
    updated_at: datetime


class PipelineNotFound(LookupError):
    pass


class RevisionConflict(RuntimeError):
    """The pipeline was saved elsewhere after this copy was loaded."""

    def __init__(self, pipeline_id: str, expected: int, current: int):
        self.pipeline_id, self.expected, self.current = pipeline_id, expected, current
        super().__init__(f"Pipeline `{pipeline_id}` is at revision {current}, but this copy was based on "
                         f"revision {expected}: it was changed elsewhere (another tab or window).")


def _refuse_literal_credentials(spec: dict[str, Any]) -> None:
    problems = literal_credentials(spec)
    if problems:
        raise LiteralCredentialError(" ".join(problems))


def create_pipeline(spec: dict[str, Any], *, name: str | None = None) -> PipelineRecord:
    _refuse_literal_credentials(spec)
    name = name or str(spec.get("name") or "Untitled pipeline")
    return insert(PipelineRecord(name=name, spec={**spec, "name": name}))


def get_pipeline(pipeline_id: str) -> PipelineRecord:
    return fetch(PipelineRecord, pipeline_id, PipelineNotFound(f"No pipeline `{pipeline_id}`: it may have been deleted."))


def save_pipeline(pipeline_id: str, spec: dict[str, Any], *, expected_revision: int) -> PipelineRecord:
    """Store `spec` if the pipeline is still at `expected_revision` (one conditional UPDATE)."""
    _refuse_literal_credentials(spec)
    statement = (update(PipelineRecord)
                 .where(col(PipelineRecord.id) == pipeline_id, col(PipelineRecord.revision) == expected_revision)
                 .values(spec=spec, name=str(spec.get("name") or "Untitled pipeline"),
                         revision=expected_revision + 1, updated_at=utcnow()))
    with session() as s:
        changed = s.execute(statement).rowcount  # type: ignore[attr-defined]
        s.commit()
    if changed != 1:
        current = get_pipeline(pipeline_id)  # raises PipelineNotFound when it is gone
        raise RevisionConflict(pipeline_id, expected_revision, current.revision)
    return get_pipeline(pipeline_id)


def list_pipelines(limit: int = 500) -> list[PipelineSummary]:
    query = select(PipelineRecord).order_by(col(PipelineRecord.updated_at).desc()).limit(limit)
    with session() as s:
        return [PipelineSummary(r.id, r.name, r.revision, len(r.spec.get("nodes") or []), r.updated_at)
                for r in s.exec(query)]


def most_recent_pipeline() -> PipelineRecord | None:
    query = select(PipelineRecord).order_by(col(PipelineRecord.updated_at).desc()).limit(1)
    with session() as s:
        return s.exec(query).first()


def rename_pipeline(pipeline_id: str, name: str) -> PipelineRecord:
    name = name.strip()
    if not name:
        raise ValueError("A pipeline needs a name.")
    if len(name) > 200:
        raise ValueError(f"Pipeline names are at most 200 characters (this one has {len(name)}).")
    record = get_pipeline(pipeline_id)
    return save_pipeline(pipeline_id, {**record.spec, "name": name}, expected_revision=record.revision)


def duplicate_pipeline(pipeline_id: str) -> PipelineRecord:
    record = get_pipeline(pipeline_id)
    return create_pipeline(record.spec, name=f"{record.name} (copy)"[:200])


def delete_pipeline(pipeline_id: str) -> None:
    with session() as s:
        s.execute(delete(PipelineVersion).where(col(PipelineVersion.pipeline_id) == pipeline_id))
        gone = s.execute(delete(PipelineRecord).where(col(PipelineRecord.id) == pipeline_id)).rowcount  # type: ignore[attr-defined]
        s.commit()
    if gone != 1:
        raise PipelineNotFound(f"No pipeline `{pipeline_id}`: it may have been deleted already.")


def save_version(pipeline_id: str, label: str, spec: dict[str, Any] | None = None) -> PipelineVersion:
    """Snapshot the saved spec (or `spec`) under `label`."""
    label = label.strip()
    if not label:
        raise ValueError("A version needs a name, e.g. `before reranker`.")
    record = get_pipeline(pipeline_id)
    if spec is not None:
        _refuse_literal_credentials(spec)
    return insert(PipelineVersion(pipeline_id=pipeline_id, label=label[:200], revision=record.revision,
                                  spec=spec if spec is not None else record.spec))


def list_versions(pipeline_id: str) -> list[PipelineVersion]:
    query = (select(PipelineVersion).where(col(PipelineVersion.pipeline_id) == pipeline_id)
             .order_by(col(PipelineVersion.created_at).desc(), col(PipelineVersion.id).desc()))
    with session() as s:
        return list(s.exec(query))


def get_version(version_id: int) -> PipelineVersion:
    return fetch(PipelineVersion, version_id, PipelineNotFound(f"No saved version #{version_id}."))


def pipeline_count() -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(PipelineRecord)).one())
