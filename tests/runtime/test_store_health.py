"""A database that cannot be used is named plainly, at start-up and in /healthz; a run whose record is lost
is never a silent 200."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from runtime.consumers import default_consumers
from runtime.serving.app import create_app
from runtime.serving.records import health_checks
from runtime.store import DatabaseUnavailable, database_health, prepare_database
from runtime.store.db import get_engine, reset_engines
from runtime.testing.components import sample_registry
from tests.runtime.test_serve import PIPELINES, free_port, serving


@pytest.fixture(autouse=True)
def _fresh_engines():
    reset_engines()
    yield
    reset_engines()


@pytest.mark.parametrize("url, message", [
    ("sqlite:////nonexistent-dir/patchwire.db",
     "Cannot open the SQLite database at /nonexistent-dir/patchwire.db (unable to open database file): does its "
     "directory exist, and may this user write to it? Set PATCHWIRE_DATA_DIR or DATABASE_URL to another place."),
    ("nosuchdb://user:secret-pw@host/db",
     "DATABASE_URL names a kind of database Patchwire cannot use (`nosuchdb:`). Patchwire stores its data in SQLite "
     "(the default) or PostgreSQL, e.g. postgresql+psycopg://user:password@host:5432/patchwire."),
    ("secret-pw@not a url",
     "DATABASE_URL is not a database URL; it should look like postgresql+psycopg://user:password@host:5432/patchwire "
     "(or unset it to use SQLite in the data directory)."),
    ("postgresql+psycopg2://user:secret-pw@127.0.0.1/db",
     "DATABASE_URL points at PostgreSQL but the psycopg2 driver is not installed: pip install 'patchwire[postgres]' "
     "and use a postgresql+psycopg:// URL"),
    ("mysql://user:secret-pw@127.0.0.1/db",
     "DATABASE_URL points at mysql but its driver `mysqldb` is not installed (No module named 'MySQLdb'). Patchwire "
     "supports SQLite and PostgreSQL (pip install 'patchwire[postgres]')."),
])
def test_a_database_that_cannot_be_used_is_named_with_the_fix(url, message):
    with pytest.raises(DatabaseUnavailable) as caught:
        prepare_database(url)
    assert str(caught.value) == message and "secret-pw" not in str(caught.value)


def test_a_missing_postgres_database_is_named(postgres_cluster):
    with pytest.raises(DatabaseUnavailable) as caught:
        prepare_database(postgres_cluster.url("no_such_db"))
    assert str(caught.value) == (f"The database `no_such_db` does not exist on 127.0.0.1:{postgres_cluster.port}: "
                                 "create it (e.g. `createdb no_such_db`) or fix its name in DATABASE_URL.")


def test_database_health_is_ok_or_the_reason(tmp_path):
    assert database_health(f"sqlite:///{tmp_path / 'ok.db'}") == {"database": "ok"}
    port = free_port()
    assert database_health(f"postgresql+psycopg://u:secret-pw@127.0.0.1:{port}/x") == {
        "database": f"Cannot reach the database at 127.0.0.1:{port} (Connection refused). Is the server running, "
                    "and are the host and port in DATABASE_URL right?"}


def test_healthz_reports_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    app = create_app(PIPELINES, sample_registry(), checks=health_checks(True))
    with serving(app) as base:
        response = httpx.get(f"{base}/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok", "pipelines": len(PIPELINES),
                                                                 "database": "ok"})
        monkeypatch.setenv("DATABASE_URL", f"sqlite:////nonexistent-dir/{tmp_path.name}.db")
        response = httpx.get(f"{base}/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"].startswith("Cannot open the SQLite database at /nonexistent-dir/")


def test_healthz_without_checks_is_unchanged():
    with serving(create_app(PIPELINES, sample_registry())) as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "pipelines": len(PIPELINES)}


async def test_a_run_whose_record_is_lost_answers_503_not_200(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    prepare_database()
    app = create_app(PIPELINES, sample_registry(), consumers=default_consumers("serve"))
    with serving(app) as base:
        async with httpx.AsyncClient() as client:
            ok = await client.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "a"}})
            assert ok.status_code == 200
            with get_engine(url).begin() as connection:
                connection.execute(sa.text("DROP TABLE node_record"))
            lost = await client.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "b"}})
            streamed = await client.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "c"}},
                                         headers={"Accept": "text/event-stream"})
    assert lost.status_code == 503
    assert lost.json()["detail"].startswith(
        f"Pipeline `alpha` ran (status succeeded), but its run record was not stored: Run {lost.json()['run_id']} "
        "was not recorded: could not store run records: no such table: node_record")
    assert lost.json()["result"]["outputs"] == {"out": "A:b"}
    last_event = streamed.text.strip().split("\n\n")[-1]
    assert last_event.startswith("event: record_error\ndata: ") and "no such table: node_record" in last_event
