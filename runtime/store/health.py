"""Is the database usable? One clear sentence when it is not: driver missing, unreachable, credentials refused.

Messages name the database by host and port (or the SQLite file), never by its full URL: the URL may hold
a password.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, Engine

from ..settings import database_url

__all__ = ["DatabaseUnavailable", "engine_error", "connection_error", "check_database", "database_health",
           "database_status", "where", "first_line"]

EXTRA_HINT = "pip install 'patchwire[postgres]'"


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be used; the message says why and how to fix it."""


def where(url: URL) -> str:
    """"the database at host:port" or "the SQLite database at PATH": never the password."""
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database at {url.database or ':memory:'}"
    return f"the database at {_host_port(url)}"


def _host_port(url: URL) -> str:
    port = url.port or {"postgresql": 5432, "mysql": 3306}.get(url.get_backend_name(), "")
    return f"{url.host or 'localhost'}:{port}"


def engine_error(url_text: str, exc: Exception) -> DatabaseUnavailable:
    """Why an engine for `url_text` could not be created (bad URL, unknown dialect, driver not installed)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError):
        name = url_text.partition(":")[0]
        return DatabaseUnavailable(f"DATABASE_URL names a kind of database Patchwire cannot use (`{name}:`). Patchwire "
                                   "stores its data in SQLite (the default) or PostgreSQL, e.g. "
                                   "postgresql+psycopg://user:password@host:5432/patchwire.")
    if isinstance(exc, ArgumentError):
        return DatabaseUnavailable("DATABASE_URL is not a database URL; it should look like "
                                   "postgresql+psycopg://user:password@host:5432/patchwire (or unset it to use "
                                   "SQLite in the data directory).")
    url = make_url(url_text)
    if url.get_backend_name() == "postgresql":
        driver = url.get_driver_name()
        if driver in ("psycopg", "psycopg2", "psycopg2cffi", ""):
            return DatabaseUnavailable(f"DATABASE_URL points at PostgreSQL but the {driver or 'psycopg'} driver "
                                       f"is not installed: {EXTRA_HINT}"
                                       + ("" if driver in ("psycopg", "") else
                                          " and use a postgresql+psycopg:// URL"))
        return DatabaseUnavailable(f"DATABASE_URL points at PostgreSQL through the `{driver}` driver, which is not "
                                   f"installed ({exc}). Use a postgresql+psycopg:// URL and {EXTRA_HINT}.")
    return DatabaseUnavailable(f"DATABASE_URL points at {url.get_backend_name()} but its driver "
                               f"`{url.get_driver_name()}` is not installed ({exc}). Patchwire supports SQLite and "
                               f"PostgreSQL ({EXTRA_HINT}).")


def connection_error(url: URL, exc: BaseException) -> DatabaseUnavailable:
    """Why connecting to `url` failed, for a person: unreachable, credentials refused, no such database."""
    orig = getattr(exc, "orig", None) or exc
    detail = first_line(exc).removeprefix("connection failed: ")
    lowered = str(orig).lower()
    place = where(url)
    if url.get_backend_name() == "sqlite":
        return DatabaseUnavailable(f"Cannot open {place} ({detail}): does its directory exist, and may this user "
                                   "write to it? Set PATCHWIRE_DATA_DIR or DATABASE_URL to another place.")
    if "password authentication failed" in lowered or "no pg_hba.conf entry" in lowered or (
            "role" in lowered and "does not exist" in lowered):
        return DatabaseUnavailable(f"The database at {_host_port(url)} refused the credentials of user `{url.username}` "
                                   f"({_reason(detail)}). Check the user name and password in DATABASE_URL.")
    if "database" in lowered and "does not exist" in lowered:
        return DatabaseUnavailable(f"The database `{url.database}` does not exist on {_host_port(url)}: "
                                   f"create it (e.g. `createdb {url.database}`) or fix its name in DATABASE_URL.")
    return DatabaseUnavailable(f"Cannot reach {place} ({_reason(detail)}). Is the server running, "
                               "and are the host and port in DATABASE_URL right?")


def first_line(exc: BaseException) -> str:
    """The database's own words, without SQLAlchemy's statement and parameters (they may hold run data)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _reason(detail: str) -> str:
    """The server's own words without libpq's `connection to server at "h", port p failed:` preamble."""
    _, found, rest = detail.partition(" failed: ")
    return (rest if found else detail).removeprefix("FATAL:").strip()


def check_database(engine: Engine) -> None:
    """Connect and run `SELECT 1`; raise `DatabaseUnavailable` with the reason when that fails."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise connection_error(engine.url, exc) from None


def database_health(url: str | None = None) -> dict[str, Any]:
    """`{"database": "ok"}`, or `{"database": "<why it is not usable>"}`: one `SELECT 1`, for /healthz."""
    return {"database": database_status(url)}


def database_status(url: str | None = None) -> str:
    """"ok", or why the database is not usable (driver missing, unreachable, credentials refused)."""
    from .db import get_engine

    try:
        check_database(get_engine(url or database_url()))
    except DatabaseUnavailable as exc:
        return str(exc)
    return "ok"
