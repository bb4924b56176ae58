"""`patchwire serve` and its database, for real (SQLite and a throwaway PostgreSQL): the schema is made once
before the workers start, no record is lost under concurrent load, runs of a killed server become
`interrupted` at the next start, a lost database fails run requests loudly, `/healthz` reports it, and a
database that cannot be used stops the service (and `batch`, and the editor) with the reason."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from runtime.testing.specs import make_spec
from tests.infra.postgres import PASSWORD
from tests.infra.services import free_port, stop_group

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
ROOT = Path(__file__).resolve().parents[2]


def spec_file(tmp_path: Path, name: str, seconds: float) -> Path:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "echo": ("demo.echo", {"prefix": "A:"}),
                      "wait": ("demo.delay", {"seconds": seconds}), "out": ("io.output", {})},
                     [("q", "value", "echo", "value"), ("echo", "value", "wait", "value"),
                      ("wait", "value", "out", "value")], name=name)
    path = tmp_path / f"{name}.json"
    path.write_text(spec.model_dump_json())
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path) -> str:
    """A database with no tables yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serve.db'}"
    return request.getfixturevalue("postgres_url")


@contextlib.contextmanager
def serve(spec: Path, url: str, log: Path, *extra: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`patchwire serve` in its own process group on a loopback port; yields once /healthz answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    with log.open("ab") as out:
        proc = subprocess.Popen([PATCHWIRE, "serve", str(spec), "--port", str(port), "--no-access-log", "--plugin",
                                 "runtime.testing.components", *extra], env=env, stdout=out, stderr=out,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=5).status_code in (200, 503):
                    break
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield proc, base
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGINT `patchwire serve`'s process group (a graceful shutdown), SIGKILL after 30 s and what is left."""
    stop_group(proc, sig=signal.SIGINT, grace_s=30)


def rows(url: str, sql: str) -> list[tuple]:
    """Plain SQL on a fresh engine: this process never prepares the database (that would mark runs itself)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


async def post_many(base: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=120) as client:
        return await asyncio.gather(*[client.post(f"{base}/v1/pipelines/alpha/run",
                                                  json={"inputs": {"query": f"q{i}"}}) for i in range(count)])


def test_two_workers_on_a_fresh_database_record_every_run(empty_url, tmp_path):
    log = tmp_path / "serve.log"
    with serve(spec_file(tmp_path, "alpha", 0.02), empty_url, log, "--workers", "2") as (_, base):
        responses = asyncio.run(post_many(base, 30))
    assert [r.status_code for r in responses] == [200] * 30, [r.text for r in responses if r.status_code != 200]
    sent = {r.json()["run_id"] for r in responses}
    stored = dict(rows(empty_url, "SELECT id, status FROM run_record WHERE source = 'serve'"))
    assert set(stored) == sent and set(stored.values()) == {"succeeded"}
    assert rows(empty_url, "SELECT count(*) FROM node_record") == [(30 * 4,)]
    text = log.read_text()
    assert "not fully recorded" not in text and "already exists" not in text, text


def test_runs_of_a_killed_server_are_interrupted_when_it_starts_again(empty_url, tmp_path):
    spec = spec_file(tmp_path, "alpha", 60)
    log = tmp_path / "serve.log"
    with serve(spec, empty_url, log) as (proc, base):
        threading.Thread(target=_post_ignoring_errors, args=(base,), daemon=True).start()
        run_id = wait_for_running_run(empty_url)
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 mid-run: nothing gets to clean up
        proc.wait(10)
    assert rows(empty_url, f"SELECT status FROM run_record WHERE id = '{run_id}'") == [("running",)]
    with serve(spec, empty_url, log):
        assert rows(empty_url, f"SELECT status FROM run_record WHERE id = '{run_id}'") == [("interrupted",)]
        assert rows(empty_url, f"SELECT status FROM node_record WHERE run_id = '{run_id}' AND node_id = 'wait'") == [
            ("cancelled",)]


def _post_ignoring_errors(base: str) -> None:
    with contextlib.suppress(httpx.TransportError):
        httpx.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "x"}}, timeout=120)


def wait_for_running_run(url: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(sa.exc.OperationalError, sa.exc.ProgrammingError):  # tables not there yet
            found = rows(url, "SELECT id FROM run_record WHERE status = 'running'")
            if found:
                return found[0][0]
        time.sleep(0.1)
    raise AssertionError("no run was recorded as running")


def test_a_database_lost_mid_service_fails_run_requests_loudly(postgres_cluster, postgres_url, tmp_path):
    database = postgres_url.rsplit("/", 1)[1]
    with serve(spec_file(tmp_path, "alpha", 0.01), postgres_url, tmp_path / "serve.log") as (_, base):
        assert httpx.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "a"}}).status_code == 200
        health = httpx.get(f"{base}/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok", "pipelines": 1, "database": "ok"})

        postgres_cluster.admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')  # the database goes away
        postgres_cluster.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
        lost = httpx.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "b"}}, timeout=60)
        assert lost.status_code == 503
        body = lost.json()
        assert body["detail"].startswith(f"Pipeline `alpha` ran (status succeeded), but its run record was not "
                                         f"stored: Run {body['run_id']} was not recorded: ")
        assert f'database "{database}" is not currently accepting connections' in body["detail"]
        assert body["result"]["outputs"] == {"out": "A:b"}
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503
        assert health.json()["database"] == (
            f"Cannot reach the database at 127.0.0.1:{postgres_cluster.port} (database \"{database}\" is not "
            "currently accepting connections). Is the server running, and are the host and port in DATABASE_URL right?")

        postgres_cluster.admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')  # and comes back
        back = httpx.post(f"{base}/v1/pipelines/alpha/run", json={"inputs": {"query": "c"}})
        assert back.status_code == 200 and httpx.get(f"{base}/healthz").status_code == 200
    stored = dict(rows(postgres_url, "SELECT id, status FROM run_record"))
    assert back.json()["run_id"] in stored and body["run_id"] not in stored


HIDE_PSYCOPG = "import sys; sys.modules['psycopg'] = None  # as if `patchwire[postgres]` were not installed\n"


def unusable_url(problem: str, cluster) -> str:
    if problem == "unreachable":
        return f"postgresql+psycopg://patchwire:{PASSWORD}@127.0.0.1:{free_port()}/patchwire"  # nothing listens
    if problem == "password":
        return cluster.url("postgres", password="not-the-password-42")
    return cluster.url("postgres")


def expected_message(problem: str, url: str) -> str:
    port = sa.engine.make_url(url).port
    return {
        "driver": "error: DATABASE_URL points at PostgreSQL but the psycopg driver is not installed: "
                  "pip install 'patchwire[postgres]'",
        "unreachable": f"error: Cannot reach the database at 127.0.0.1:{port} (Connection refused). Is the server "
                       "running, and are the host and port in DATABASE_URL right?",
        "password": f"error: The database at 127.0.0.1:{port} refused the credentials of user `patchwire` (password "
                    'authentication failed for user "patchwire"). Check the user name and password in DATABASE_URL.',
    }[problem]


@pytest.mark.parametrize("entry, problem", [("serve", "driver"), ("serve", "unreachable"), ("serve", "password"),
                                            ("batch", "driver"), ("batch", "password"), ("editor", "unreachable")])
def test_an_entry_point_refuses_a_database_it_cannot_use(entry, problem, postgres_cluster, tmp_path):
    url = unusable_url(problem, postgres_cluster)
    spec = spec_file(tmp_path, "alpha", 0)
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(free_port())}
    start = f"{HIDE_PSYCOPG if problem == 'driver' else ''}from runtime.cli import main; sys.exit(main())\n"
    plugin = ["--plugin", "runtime.testing.components"]
    argv = {"serve": [sys.executable, "-c", "import sys\n" + start, "serve", str(spec), "--port", env["PORT"], *plugin],
            "batch": [sys.executable, "-c", "import sys\n" + start, "batch", str(spec), str(dataset(tmp_path)),
                      "-o", str(tmp_path / "out.jsonl"), *plugin],
            "editor": [str(ROOT / "scripts" / "run.sh")]}[entry]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == (1 if entry == "editor" else 2), proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == expected_message(problem, url), proc.stderr
    assert "Traceback" not in proc.stderr and "not-the-password-42" not in proc.stdout + proc.stderr
    assert "Building and starting" not in proc.stdout and not (tmp_path / "out.jsonl").exists()


def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"query": "a"}\n')
    return path
