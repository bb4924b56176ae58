"""One engine per database URL. Creating the schema is not done here: `prepare_database()` migrates it once,
under a lock, and `session()` makes sure that happened before the first query of a process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from ..settings import database_url

__all__ = ["get_engine", "session", "reset_engines", "insert", "fetch", "ensure_prepared",
           "CONNECT_TIMEOUT_S"]

T = TypeVar("T", bound=SQLModel)
CONNECT_TIMEOUT_S = 10  # a server that drops packets fails in seconds instead of hanging a request
_ENGINES: dict[str, Engine] = {}
PREPARED: set[str] = set()  # URLs `prepare_database()` has migrated in this process
_LOCK = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default `DATABASE_URL`); raises `DatabaseUnavailable` when its driver is missing."""
    url = url or database_url()
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = _create(url)
    return engine


def _create(url: str) -> Engine:
    from .health import engine_error

    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if url.startswith("postgresql") and "connect_timeout" not in url:
            return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # noqa: BLE001 - a bad URL or a missing driver, said plainly
        raise engine_error(url, exc) from None


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":  # switching takes an exclusive lock
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    url = url or database_url()
    ensure_prepared(url)
    with Session(get_engine(url), expire_on_commit=False) as s:
        yield s


def ensure_prepared(url: str) -> None:
    """`prepare_database(url)` unless this process already did (a set lookup after the first time)."""
    if url not in PREPARED:
        from .schema import prepare_database

        prepare_database(url)


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
    """Dispose every engine and forget which databases were prepared (tests switch databases between cases)."""
    with _LOCK:
        PREPARED.clear()
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
