"""The run record keeps the run's outbound calls: `run_record.egress`, a JSON list of
`{host, port, node, kind, ts}` (`runtime.egress`). Nullable: runs recorded before it have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("run_record")}
    if "egress" not in present:  # a database adopted by 0001 after the column was added by create_all
        op.add_column("run_record", sa.Column("egress", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("run_record", "egress")
