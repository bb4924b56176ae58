"""One engine per database URL, tables created on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from ..settings import database_url

__all__ = ["get_engine", "session", "reset_engines", "insert", "fetch"]

T = TypeVar("T", bound=SQLModel)
_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = _create(url)
    return engine


def _create(url: str) -> Engine:
    from . import (
        experiments,  # noqa: F401 - eval experiments and publications
        pipelines,  # noqa: F401 - the editor's pipeline tables
        tables,  # noqa: F401 - registers the tables on SQLModel.metadata
    )

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Additive schema upgrades: a column added to a table since the database was created is added to it
    (nullable), so a newer Patchwire opens an older database without losing anything."""
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            existing = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in existing:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    with Session(get_engine(url), expire_on_commit=False) as s:
        yield s


def insert(record: T) -> T:
    """Store a new row and return it with its generated fields filled in."""
    with session() as s:
        s.add(record)
        s.commit()
        s.refresh(record)
    return record


def fetch(model: type[T], key: Any, missing: Exception) -> T:
    """The row of `model` with primary key `key`, or raise `missing`."""
    with session() as s:
        record = s.get(model, key)
    if record is None:
        raise missing
    return record


def reset_engines() -> None:
    """Dispose every engine (tests switch databases between cases)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
