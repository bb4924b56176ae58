"""Eval experiments (`patchwire eval`), their per-row results linked to runs, and pipeline publications.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

TEXT, JSON, WHEN = sa.String, sa.JSON, sa.DateTime(timezone=True)


def _required(name: str, kind: sa.types.TypeEngine | type, *extra: sa.ForeignKey, **kw: object) -> sa.Column:
    return sa.Column(name, kind, *extra, nullable=False, **kw)  # type: ignore[arg-type]


def _optional(name: str, kind: sa.types.TypeEngine | type) -> sa.Column:
    return sa.Column(name, kind, nullable=True)


def upgrade() -> None:
    """Create the tables a database lacks (one made by `create_all` before migrations may have them)."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "eval_experiment" not in existing:
        _experiments()
    if "eval_row" not in existing:
        _rows()
    if "pipeline_publication" not in existing:
        _publications()


def _experiments() -> None:
    # Frozen copies of the tables (never import the models here: they move on, this migration does not).
    op.create_table(
        "eval_experiment", _required("id", TEXT, primary_key=True), _required("suite_name", TEXT),
        _optional("suite", JSON), _required("pipeline_name", TEXT), _optional("pipeline_id", TEXT),
        _optional("pipeline_version", sa.Integer), _required("spec_sha256", TEXT), _optional("spec", JSON),
        _required("dataset", TEXT), _required("dataset_sha256", TEXT), _optional("score", sa.Float),
        _optional("gate_passed", sa.Boolean), _optional("report", JSON), _required("created_at", WHEN))
    for column in ("suite_name", "pipeline_id", "pipeline_version", "spec_sha256", "created_at"):
        op.create_index(f"ix_eval_experiment_{column}", "eval_experiment", [column])


def _rows() -> None:
    op.create_table(
        "eval_row",
        _required("experiment_id", TEXT, sa.ForeignKey("eval_experiment.id", ondelete="CASCADE"), primary_key=True),
        _required("row_index", sa.Integer, primary_key=True), _optional("row_id", JSON), _required("status", TEXT),
        _required("passed", sa.Boolean), _optional("run_ids", JSON), _optional("assertions", JSON))


def _publications() -> None:
    op.create_table(
        "pipeline_publication", _required("id", sa.Integer, primary_key=True, autoincrement=True),
        _required("pipeline_id", TEXT), _required("version_id", sa.Integer), _optional("experiment_id", TEXT),
        _optional("gate", JSON), _required("published_at", WHEN))
    op.create_index("ix_pipeline_publication_pipeline_id", "pipeline_publication", ["pipeline_id"])
    op.create_index("ix_pipeline_publication_published_at", "pipeline_publication", ["published_at"])


def downgrade() -> None:
    for name in ("pipeline_publication", "eval_row", "eval_experiment"):
        op.drop_table(name)
