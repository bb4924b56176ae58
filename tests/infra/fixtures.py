"""Session fixtures for real services: a Chroma server, a Ray cluster and a PostgreSQL cluster, each started
on first use."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import PostgresCluster
from .postgres import postgres_cluster as start_postgres
from .services import Service, free_port, start_service

__all__ = ["chroma_server", "ray_cluster", "start_chroma", "postgres_cluster", "postgres_url", "phoenix_server",
           "PHOENIX_PYTHON"]

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
# Arize Phoenix lives in its own virtualenv (it pins its own FastAPI and SQLAlchemy): scripts/setup.sh makes it.
PHOENIX_PYTHON = ROOT / ".tools" / "phoenix-venv" / "bin" / "python"


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a service: none of Patchwire's settings, a private HOME (no ~/.patchwire)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PATCHWIRE_", "CHROMA_", "DATABASE_URL", "RAY_"))}
    return {**env, "HOME": str(home), "ANONYMIZED_TELEMETRY": "False", "RAY_USAGE_STATS_ENABLED": "0"}


def start_chroma(workdir: Path) -> Service:
    """`chroma run` on a free loopback port, storing under `workdir`."""
    import httpx

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return start_service("chroma", [str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port),
                                    "--path", str(workdir / "data")],
                         port=port, log=workdir / "chroma.log", env=_clean_env(workdir), ready=ready)


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[Service]:
    workdir = Path(tempfile.mkdtemp(prefix="patchwire-chroma-"))
    service = start_chroma(workdir)
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Service]:
    """`ray start --head --block` bound to 127.0.0.1 (a plain `ray start` binds the machine's other address),
    started WITHOUT Patchwire's settings, as an operator's cluster would be."""
    workdir = Path(tempfile.mkdtemp(prefix="patchwire-ray-"))
    port, client_port = free_port(), free_port()
    env = {**_clean_env(workdir), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    log = workdir / "ray.log"
    service = start_service(
        "ray", [str(BIN / "ray"), "start", "--head", "--block", "--port", str(port), "--node-ip-address",
                "127.0.0.1", "--ray-client-server-port", str(client_port), "--num-cpus", "2",
                "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", str(workdir / "tmp")],
        port=port, log=log, env=env, timeout=120, stop_signal=signal.SIGINT,  # SIGTERM would wait out 15 s
        ready=lambda: log.exists() and "Ray runtime started" in log.read_text(errors="replace"))
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server on a loopback port (tests/infra/postgres.py), stopped by its PID."""
    with start_postgres() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a new, empty PostgreSQL database for one test (no tables yet)."""
    return postgres_cluster.create_database()


@pytest.fixture(scope="session")
def phoenix_server() -> Iterator[Service]:
    """Arize Phoenix on free loopback ports (HTTP UI/API + OTLP at `/v1/traces`; gRPC on 127.0.0.1), its
    telemetry off, storing under a temp dir; stopped by PID."""
    import httpx

    if not PHOENIX_PYTHON.exists():
        raise RuntimeError(f"Arize Phoenix is not installed at {PHOENIX_PYTHON.parent.parent}: run scripts/setup.sh "
                           "(it installs Phoenix into its own virtualenv for the tracing tests).")
    workdir = Path(tempfile.mkdtemp(prefix="patchwire-phoenix-"))
    port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in _clean_env(workdir).items() if not k.startswith(("OTEL_", "PHOENIX_", "PYTHONPATH"))}
    env.update(PHOENIX_TELEMETRY_ENABLED="false", PHOENIX_WORKING_DIR=str(workdir / "phoenix"),
               PHOENIX_HOST="127.0.0.1", PHOENIX_PORT=str(port), PHOENIX_GRPC_PORT=str(grpc_port))

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    service = start_service("phoenix", [str(PHOENIX_PYTHON), str(Path(__file__).with_name("phoenix_launch.py"))],
                            port=port, log=workdir / "phoenix.log", env=env, ready=ready, timeout=120)
    service.grpc_port = grpc_port  # type: ignore[attr-defined]
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(workdir, ignore_errors=True)
