"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temp directory, a loopback port.

    with postgres_cluster() as cluster:
        url = cluster.create_database()        # a fresh, empty database per test

The server listens on 127.0.0.1 only (its Unix socket sits in the cluster's own directory), runs as the
`postgres` user when the tests run as root (the server refuses to run as root), and is stopped by the PID
it wrote to `postmaster.pid`: immediate shutdown, then SIGKILL if it does not go in time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresCluster", "postgres_cluster", "postgres_bin_dir", "PASSWORD", "USER"]

HOST = "127.0.0.1"
USER = "patchwire"
PASSWORD = "pw-Patch1"  # a test-only password; tests assert it never appears in messages
# Durability is pointless for a throwaway cluster: without fsync every test database is quicker.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


def postgres_bin_dir() -> Path | None:
    """The newest `/usr/lib/postgresql/<major>/bin` with `initdb`, or None when the server is not installed."""
    root = Path("/usr/lib/postgresql")
    majors = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return majors[-1] if majors else None


@dataclass
class PostgresCluster:
    directory: Path
    port: int
    pid: int
    bin_dir: Path

    def url(self, database: str = "postgres", *, user: str = USER, password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{user}:{password}@{HOST}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database owned by the test user; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}" OWNER {USER}')
        return self.url(name)

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        _stop(self.pid)
        shutil.rmtree(self.directory, ignore_errors=True)


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _run(argv: list[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr or proc.stdout}")


def _init(bin_dir: Path, directory: Path) -> Path:
    """initdb a cluster whose superuser is the test user, with password auth on TCP."""
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    pwfile = directory / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    data = directory / "data"
    _run([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
          "--auth-local=trust", "-E", "UTF8", "--no-instructions", "--no-sync"])
    return data


def _start(bin_dir: Path, directory: Path, data: Path) -> tuple[int, int]:
    for _ in range(5):  # another process may take the free port between choosing it and binding it
        port = _free_port()
        options = f"-p {port} -k {directory} -c listen_addresses={HOST} {FAST}"
        proc = subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                                               "-t", "60", "-l", str(directory / "server.log"), "start"]),
                              capture_output=True, text=True, timeout=90)
        pid_file = data / "postmaster.pid"
        if proc.returncode == 0 and pid_file.exists():
            return port, int(pid_file.read_text().split()[0])
    raise RuntimeError(f"PostgreSQL did not start: {proc.stderr}\n{(directory / 'server.log').read_text()}")


def _stop(pid: int, timeout: float = 20) -> None:
    """Immediate shutdown of the postmaster by PID (SIGQUIT: the data is thrown away, so no checkpoint),
    then SIGKILL if it is still there."""
    for sig, wait in ((signal.SIGQUIT, timeout), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh (it installs Debian's `postgresql` "
                           "for the tests), or `apt-get install -y postgresql`.")
    directory = Path(tempfile.mkdtemp(prefix="patchwire-pg-"))
    data = _init(bin_dir, directory)
    port, pid = _start(bin_dir, directory, data)
    cluster = PostgresCluster(directory, port, pid, bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()
