"""Test-wide environment: a private data directory, no network surprises from litellm."""

from __future__ import annotations

import os
import shutil
import tempfile

# Set before any test module imports the stack: nothing writes to ~/.patchwire, litellm
# never fetches its cost map, Chroma never phones home.
os.environ["PATCHWIRE_DATA_DIR"] = tempfile.mkdtemp(prefix="patchwire-tests-")
os.environ.pop("DATABASE_URL", None)
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.pop("PATCHWIRE_PLUGINS", None)
os.environ.pop("PATCHWIRE_MODEL_BASES", None)  # tests trust model bases explicitly


import pytest

SESSION_DATA_DIR = os.environ["PATCHWIRE_DATA_DIR"]  # removed when the session finishes


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(SESSION_DATA_DIR, ignore_errors=True)


@pytest.fixture
def fresh_database(tmp_path, monkeypatch):
    """A private SQLite database for one test, prepared as an entry point does at start-up (engines are
    per URL, so dispose them around it)."""
    from runtime.store import prepare_database
    from runtime.store.db import reset_engines

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'patchwire.db'}")
    reset_engines()
    prepare_database()
    yield
    reset_engines()


from tests.infra.fixtures import (  # noqa: E402,F401 - session fixtures for real services
    chroma_server,
    phoenix_server,
    postgres_cluster,
    postgres_url,
    ray_cluster,
)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path, monkeypatch) -> str:
    """`fresh_database` on SQLite and on PostgreSQL: a private database, prepared, set as DATABASE_URL."""
    from runtime.store import prepare_database
    from runtime.store.db import reset_engines

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'patchwire.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    prepare_database()
    yield url
    reset_engines()
