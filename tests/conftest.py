"""Test-wide environment: a private data directory, no network surprises from litellm."""

from __future__ import annotations

import os
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


@pytest.fixture
def fresh_database(tmp_path, monkeypatch):
    """A private SQLite database for one test (engines are per URL, so dispose them around it)."""
    from runtime.store.db import reset_engines

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'patchwire.db'}")
    reset_engines()
    yield
    reset_engines()


from tests.infra.fixtures import chroma_server, phoenix_server, ray_cluster  # noqa: E402,F401 - session fixtures for real services
