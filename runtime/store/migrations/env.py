"""Run by Alembic for every migration command: on the connection `prepare_database()` passes in, or on
`sqlalchemy.url` when a developer runs the alembic command line to write a new migration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=None,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters tables by copying
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _migrate(connection)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect() as fresh:
        _migrate(fresh)
