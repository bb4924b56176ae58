"""`prepare_database()`: what every entry point does once before it serves, runs or edits anything.

Check the driver and the connection, take a lock (a PostgreSQL advisory lock, a file lock next to a SQLite
database) so that several processes starting at once never race on DDL, migrate to the newest schema with
Alembic, mark runs orphaned by a dead process `interrupted`, release the lock. Once per URL per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ..settings import database_url
from .db import PREPARED, get_engine
from .health import DatabaseUnavailable, check_database, connection_error, first_line, where

__all__ = ["prepare_database", "head_revision", "current_revision", "MIGRATIONS", "LOCK_TIMEOUT_S", "HEAD_REVISION"]

log = logging.getLogger("patchwire.store")
MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_TIMEOUT_S = 120.0
# The newest migration in migrations/versions (a test checks it against Alembic's own view): a database
# already there is opened without importing Alembic at all, which keeps `patchwire run` quick.
HEAD_REVISION = "0004"
ADVISORY_KEY = 0x7061_7463_6877_6972  # "patchwir": one key for Patchwire's schema lock in a PostgreSQL database
_LOCK = threading.RLock()  # one preparation at a time in this process (re-entered by the interrupted-run sweep)


def prepare_database(url: str | None = None) -> None:
    """Make the database at `url` (default `DATABASE_URL`) ready: reachable, migrated, orphaned runs closed.

    Raises `DatabaseUnavailable` with a message for a person (never the password). Cheap when called again.
    """
    url = url or database_url()
    if url in PREPARED:
        return
    with _LOCK:
        if url in PREPARED:
            return
        engine = get_engine(url)
        with _schema_lock(engine) as connection:
            _migrate(connection)
            PREPARED.add(url)  # the sweep below queries through `session()`, which must not prepare again
            try:
                marked = _mark_interrupted(url)
            except BaseException:
                PREPARED.discard(url)
                raise
    if marked:
        log.warning("marked %d run(s) interrupted: the process running them stopped", len(marked))


def _mark_interrupted(url: str) -> list[str]:
    from sqlalchemy.exc import DBAPIError

    from .runs import mark_interrupted_runs

    try:
        return mark_interrupted_runs(url)
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"Could not close the runs orphaned by a stopped process in "
                                  f"{where(get_engine(url).url)}: {first_line(exc)}") from None


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the schema lock of this database."""
    if engine.dialect.name == "postgresql":
        check_database(engine)
        with _advisory_lock(engine) as connection:
            yield connection
        return
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    # SQLite: the file lock first. A fresh file switching to WAL takes an exclusive lock that does not wait
    # for a busy timeout, so a second process connecting at that moment would see "database is locked".
    with _file_lock(Path(f"{path}.lock") if path and path != ":memory:" else None, engine):
        check_database(engine)
        with engine.connect() as connection:
            yield connection


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[Connection]:
    from sqlalchemy.exc import OperationalError

    with engine.connect() as connection:
        connection.execute(text(f"SET lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'"))
        try:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        except OperationalError:
            raise _lock_timeout(where(engine.url)) from None
        connection.execute(text("RESET lock_timeout"))
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.commit()


@contextmanager
def _file_lock(path: Path | None, engine: Engine) -> Iterator[None]:
    """An exclusive `flock` on `path` (POSIX); no lock for an in-memory database or where fcntl is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: one process per SQLite file is the rule there anyway
        path = None
    if path is None:
        yield
        return
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        check_database(engine)  # a missing directory or a read-only place: the database's own words
        raise connection_error(engine.url, exc) from None
    with handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _lock_timeout(f"the SQLite database at {path.with_suffix('')}") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_timeout(place: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"Another Patchwire process has held the schema lock of {place} for more than "
                               f"{LOCK_TIMEOUT_S:g} s (a migration in progress, or a stuck process). Wait for it, or "
                               "stop it and start again.")


def _alembic_config(connection: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of Patchwire, as Alembic sees the versions folder."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at; None for a new database or one made before migrations existed."""
    from sqlalchemy import inspect

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _migrate(connection: Connection) -> None:
    """Upgrade to the newest migration (the first one adopts a database made before migrations existed)."""
    current = current_revision(connection)
    connection.commit()
    if current == HEAD_REVISION:
        return
    if current is None and _has_tables(connection):
        log.warning("adopting a database made by an older Patchwire (%s): adding what it lacks",
                    where(connection.engine.url))
    _upgrade(connection, current)


def _upgrade(connection: Connection, current: str | None) -> None:
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    place = where(connection.engine.url)
    try:
        command.upgrade(_alembic_config(connection), "head")
        connection.commit()
    except DBAPIError as exc:
        connection.rollback()
        raise DatabaseUnavailable(f"Could not bring {place} to the current schema (migration {HEAD_REVISION}): "
                                  f"{first_line(exc)}") from None
    except CommandError:
        connection.rollback()
        raise DatabaseUnavailable(f"{place[0].upper()}{place[1:]} was migrated by a newer Patchwire (schema "
                                  f"revision {current}; this one knows up to {HEAD_REVISION}). Upgrade Patchwire, "
                                  "or point DATABASE_URL at another database.") from None


def _has_tables(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(set(inspect(connection).get_table_names()) & {"run_record", "review_task", "pipeline"})

