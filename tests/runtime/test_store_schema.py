"""The schema is made by Alembic migrations, once, under a lock: fresh databases, databases from older
versions, and several processes preparing the same database at the same instant (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from runtime.store import prepare_database
from runtime.store.db import get_engine, reset_engines
from runtime.store.runs import get_run, list_runs
from runtime.store.schema import HEAD_REVISION, current_revision, head_revision

TABLES = {"alembic_version", "run_record", "node_record", "review_task", "pipeline", "pipeline_version",
          "editor_pin", "editor_breakpoint", "eval_experiment", "eval_row", "pipeline_publication"}
# Columns added after the first release of the store: a database from then lacks them.
ADDED_LATER = {("run_record", "final_answer"), ("run_record", "review")}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path, monkeypatch) -> str:
    """A database with no tables at all, set as DATABASE_URL, not prepared."""
    url = (f"sqlite:///{tmp_path / 'patchwire.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    yield url
    reset_engines()


def table_names(url: str) -> set[str]:
    return set(sa.inspect(get_engine(url)).get_table_names())


def revision(url: str) -> str | None:
    with get_engine(url).connect() as connection:
        return current_revision(connection)


def prepare_at_once(url: str, processes: int = 2) -> list[subprocess.CompletedProcess]:
    """`processes` processes call prepare_database() on `url` at the same instant (their imports done first,
    they wait for one line on stdin), then store a review task each."""
    code = ("import sys\n"
            "from runtime.store import create_review, prepare_database\n"
            "import runtime.store.schema, alembic.command, sqlalchemy.dialects.postgresql\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            "prepare_database()\n"
            "create_review(run_id='r', node_id='n', question='from ' + sys.argv[1])\n"
            "print('prepared')\n")
    env = {**os.environ, "DATABASE_URL": url}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i)], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(processes)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_getting_an_engine_creates_no_tables(empty_url):
    get_engine(empty_url)
    with get_engine(empty_url).connect():
        pass
    assert table_names(empty_url) == set()


def all_models() -> sa.MetaData:
    """Every table class registered on SQLModel's metadata, the editor's pins and breakpoints included."""
    import editor.breakpoints
    import editor.pins  # noqa: F401 - the editor's tables are in the migrations too
    import runtime.store.experiments
    import runtime.store.pipelines
    import runtime.store.tables  # noqa: F401

    return SQLModel.metadata


def test_a_fresh_database_gets_the_models_schema_from_the_migrations(empty_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    prepare_database()
    assert table_names(empty_url) == TABLES
    assert revision(empty_url) == head_revision()
    with get_engine(empty_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), all_models())
    assert differences == [], "tables.py and the migrations disagree: write a migration for the change"


def test_preparing_again_in_the_same_process_does_nothing(empty_url, monkeypatch):
    from runtime.store import schema

    prepare_database()

    def no_second_migration(_connection):
        raise AssertionError("migrated twice")

    monkeypatch.setattr(schema, "_migrate", no_second_migration)
    prepare_database()
    prepare_database(empty_url)


def test_processes_preparing_a_fresh_database_at_once_make_one_schema(empty_url):
    # Four, not two: on a fresh SQLite file the switch to WAL is where a process connecting too early failed.
    results = prepare_at_once(empty_url, processes=4)
    for result in results:
        assert (result.returncode, result.stdout.strip()) == (0, "prepared"), result.stderr
        assert "Traceback" not in result.stderr and "already exists" not in result.stderr
    assert table_names(empty_url) == TABLES and revision(empty_url) == head_revision()
    from runtime.store import list_reviews

    assert sorted(t.question for t in list_reviews()) == [f"from {i}" for i in range(4)]


def test_a_process_waiting_for_the_sqlite_schema_lock_does_not_touch_the_file_yet(tmp_path):
    """The first connection to a fresh SQLite file switches it to WAL under an exclusive lock that does not
    honour the busy timeout: a process connecting before it holds the schema lock could fail "locked"."""
    import fcntl

    db = tmp_path / "patchwire.db"
    code = "from runtime.store import prepare_database; prepare_database(); print('prepared')"
    with open(f"{db}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "DATABASE_URL": f"sqlite:///{db}"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=4)  # ample time for its imports and, before the fix, its first connection
        assert proc.poll() is None and not db.exists(), "connected before holding the schema lock"
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out.strip()) == (0, "prepared"), err


def build_old_database(url: str) -> None:
    """Tables as `create_all` made them before migrations, without the columns added since; one old run."""
    old = sa.MetaData()
    for table in all_models().sorted_tables:
        sa.Table(table.name, old, *[column._copy() for column in table.columns
                                    if (table.name, column.name) not in ADDED_LATER])
    engine = sa.create_engine(url)
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO run_record (id, pipeline_name, source, status, total_tokens, owner, started_at, heartbeat_at)"
            " VALUES ('old-run', 'legacy', 'cli', 'succeeded', 7, 'gone:1', :t, :t)"), {"t": "2026-01-01 00:00:00"})
        connection.execute(sa.text("INSERT INTO node_record (run_id, node_id, status, attempts, cache_hit) "
                                   "VALUES ('old-run', 'q', 'succeeded', 1, false)"))
    engine.dispose()


def test_processes_upgrading_an_old_database_at_once_keep_every_row(empty_url):
    build_old_database(empty_url)
    assert revision(empty_url) is None
    results = prepare_at_once(empty_url)
    for result in results:
        assert (result.returncode, result.stdout.strip()) == (0, "prepared"), result.stderr
        assert "DuplicateColumn" not in result.stderr and "duplicate column" not in result.stderr
    assert revision(empty_url) == head_revision()
    columns = {c["name"] for c in sa.inspect(get_engine(empty_url)).get_columns("run_record")}
    assert {"final_answer", "review"} <= columns
    run, nodes = get_run("old-run")
    assert (run.pipeline_name, run.total_tokens, run.final_answer, run.review) == ("legacy", 7, None, None)
    assert list(nodes) == ["q"] and [r.id for r in list_runs()] == ["old-run"]


def test_an_old_database_is_adopted_by_one_process(empty_url, caplog):
    build_old_database(empty_url)
    with caplog.at_level("WARNING", logger="patchwire.store"):
        prepare_database()
    assert "adopting a database made by an older Patchwire" in caplog.text
    assert revision(empty_url) == head_revision()
    from runtime.store import create_review, decide_review

    task = create_review(run_id="old-run", node_id="review", draft_answer="draft")
    decide_review(task.id, "approve", reviewer="ana")
    assert get_run("old-run")[0].final_answer == "draft"


def test_the_head_constant_is_the_newest_migration():
    from runtime.store.schema import HEAD_REVISION

    assert head_revision() == HEAD_REVISION, "a new migration: set HEAD_REVISION in runtime/store/schema.py"


def test_a_database_at_the_newest_migration_opens_without_loading_alembic(empty_url):
    prepare_database()
    code = ("import sys\nfrom runtime.store import prepare_database\nprepare_database()\n"
            "print('alembic' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DATABASE_URL": empty_url},
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize("empty_url", ["sqlite"], indirect=True)
def test_a_database_from_a_newer_patchwire_is_refused_with_the_reason(empty_url):
    from runtime.store import DatabaseUnavailable

    prepare_database()
    with get_engine(empty_url).begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    reset_engines()
    with pytest.raises(DatabaseUnavailable) as caught:
        prepare_database()
    path = empty_url.removeprefix("sqlite:///")
    assert str(caught.value) == (f"The SQLite database at {path} was migrated by a newer Patchwire (schema revision "
                                 f"9999; this one knows up to {HEAD_REVISION}). Upgrade Patchwire, or point DATABASE_URL at "
                                 "another database.")
