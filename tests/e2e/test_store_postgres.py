"""The editor on PostgreSQL (a throwaway loopback cluster): a pipeline saved, reloaded, and reopened after a
server restart, with the rows really in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from . import ui
from .conftest import Servers
from .test_editor_persistence import _assert_intact, _build


def test_the_editor_saves_and_reopens_pipelines_in_postgres(servers: Servers, postgres_url: str, page: Page) -> None:
    server = servers.get("postgres", {"DATABASE_URL": postgres_url})
    pipeline = ui.new_empty_pipeline(page, server.base)
    page.get_by_test_id("pipeline-name").fill("Kept in Postgres")
    _build(page)
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Kept in Postgres")
    page.reload()
    ui.wait_ready(page)
    _assert_intact(page)

    restarted = servers.restart()
    ui.open_app(page, restarted.base)  # `/` opens the most recently edited pipeline, from Postgres
    assert ui.pipeline_id(page) == pipeline
    expect(page.get_by_test_id("pipeline-name")).to_have_value("Kept in Postgres")
    _assert_intact(page)
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            stored = dict(connection.execute(sa.text("SELECT id, name FROM pipeline")).all())
    finally:
        engine.dispose()
    assert stored[pipeline] == "Kept in Postgres"
    servers.close()  # the next test gets the default server back, on SQLite
