"""Inputs edited at a breakpoint (`runtime.debug`) are kept with the run: `run_record.breakpoint_edits` (the
ids of the nodes edited) and `node_record.edited_inputs` (`{port: {before, after}}`); and the editor's
breakpoints get their table, `editor_breakpoint`, beside its pins (never in the spec). Nullable columns:
runs recorded before them have none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = (("run_record", "breakpoint_edits"), ("node_record", "edited_inputs"))


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table, column in COLUMNS:
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column(column, sa.JSON, nullable=True))
    if not inspector.has_table("editor_breakpoint"):
        op.create_table(
            "editor_breakpoint",
            sa.Column("pipeline_id", sa.String, primary_key=True, nullable=False),
            sa.Column("node_id", sa.String, primary_key=True, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("editor_breakpoint")
    for table, column in COLUMNS:
        op.drop_column(table, column)
