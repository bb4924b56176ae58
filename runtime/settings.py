"""Where Patchwire keeps its data, read from the environment each time (tests change it)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "database_url"]


def data_dir() -> Path:
    """`PATCHWIRE_DATA_DIR`, else `~/.patchwire`: the SQLite database and embedded Chroma live here."""
    path = Path(os.environ.get("PATCHWIRE_DATA_DIR") or Path.home() / ".patchwire")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """`DATABASE_URL` (e.g. postgresql+psycopg://...), else SQLite in the data directory."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'patchwire.db'}"
