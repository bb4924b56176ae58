"""Patchwire's tables as of the first migration: runs, nodes, review tasks, pipelines, versions, editor pins.

A baseline that also adopts databases made before migrations existed (tables created by SQLModel's
`create_all`, later columns added one by one): a table that is missing is created, a table that exists gains
the columns it lacks (nullable, so its rows stay as they are), and nothing else is touched.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TEXT, JSON, WHEN = sa.String, sa.JSON, sa.DateTime(timezone=True)


def _tables(metadata: sa.MetaData) -> list[sa.Table]:
    """Frozen copies of the tables (never import the models here: they move on, this migration does not)."""
    def table(name: str, *columns: sa.Column, indexed: tuple[str, ...] = ()) -> sa.Table:
        t = sa.Table(name, metadata, *columns)
        for column in indexed:
            sa.Index(f"ix_{name}_{column}", t.c[column])
        return t

    def required(name: str, kind: sa.types.TypeEngine | type, *extra: sa.ForeignKey, **kw: object) -> sa.Column:
        return sa.Column(name, kind, *extra, nullable=False, **kw)  # type: ignore[arg-type]

    def optional(name: str, kind: sa.types.TypeEngine | type) -> sa.Column:
        return sa.Column(name, kind, nullable=True)

    return [
        table("review_task", required("id", TEXT, primary_key=True), required("run_id", TEXT),
              required("node_id", TEXT), required("pipeline", TEXT), required("queue", TEXT),
              required("question", TEXT), required("draft_answer", TEXT), optional("score", sa.Float),
              optional("context", JSON), required("instructions", TEXT), required("status", TEXT),
              optional("final_answer", TEXT), optional("reviewer", TEXT), optional("comment", TEXT),
              required("created_at", WHEN), optional("decided_at", WHEN), indexed=("run_id", "queue", "status")),
        table("run_record", required("id", TEXT, primary_key=True), optional("pipeline_id", TEXT),
              required("pipeline_name", TEXT), optional("spec", JSON), required("source", TEXT),
              required("status", TEXT), optional("inputs", JSON), optional("outputs", JSON), optional("error", JSON),
              optional("latency_ms", sa.Float), optional("node_latency_sum_ms", sa.Float),
              required("total_tokens", sa.Integer), optional("cost_usd", sa.Float), optional("final_answer", TEXT),
              optional("review", JSON), required("owner", TEXT), required("started_at", WHEN),
              optional("finished_at", WHEN), required("heartbeat_at", WHEN),
              indexed=("pipeline_id", "status", "started_at")),
        table("node_record",
              required("run_id", TEXT, sa.ForeignKey("run_record.id", ondelete="CASCADE"), primary_key=True),
              required("node_id", TEXT, primary_key=True), required("status", TEXT), optional("started_at", WHEN),
              optional("finished_at", WHEN), optional("latency_ms", sa.Float), required("attempts", sa.Integer),
              optional("inputs", JSON), optional("outputs", JSON), optional("error", JSON), optional("retries", JSON),
              optional("trace", JSON), optional("logs", JSON), optional("skip_reason", TEXT),
              required("cache_hit", sa.Boolean)),
        table("pipeline", required("id", TEXT, primary_key=True), required("name", TEXT), optional("spec", JSON),
              required("revision", sa.Integer), required("created_at", WHEN), required("updated_at", WHEN),
              indexed=("updated_at",)),
        table("pipeline_version", required("id", sa.Integer, primary_key=True, autoincrement=True),
              required("pipeline_id", TEXT), required("label", TEXT), required("revision", sa.Integer),
              optional("spec", JSON), required("created_at", WHEN), indexed=("pipeline_id",)),
        table("editor_pin", required("pipeline_id", TEXT, primary_key=True), required("node_id", TEXT, primary_key=True),
              optional("outputs", JSON), required("origin", TEXT), required("created_at", WHEN)),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in _tables(sa.MetaData()):
        if table.name not in existing:
            table.create(bind)
            continue
        present = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:  # a database from before this column existed
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))


def downgrade() -> None:
    for name in ("editor_pin", "pipeline_version", "pipeline", "node_record", "run_record", "review_task"):
        op.drop_table(name)
