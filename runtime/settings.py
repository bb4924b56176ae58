"""Settings from the environment, read each time (tests change them): where data lives, default limits."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "database_url", "default_timeout_s", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 300.0


def data_dir() -> Path:
    """`PATCHWIRE_DATA_DIR`, else `~/.patchwire`: the SQLite database and embedded Chroma live here."""
    path = Path(os.environ.get("PATCHWIRE_DATA_DIR") or Path.home() / ".patchwire")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """`DATABASE_URL` (e.g. postgresql+psycopg://...), else SQLite in the data directory."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'patchwire.db'}"


def default_timeout_s() -> float | None:
    """`PATCHWIRE_DEFAULT_TIMEOUT_S`: the time limit per attempt of nodes without `policy.timeout_s`
    (default 300 s; `0` or `none` turns it off). Raises ValueError naming the variable when malformed."""
    raw = os.environ.get("PATCHWIRE_DEFAULT_TIMEOUT_S", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    if raw.lower() in ("0", "none", "off"):
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ValueError(f"PATCHWIRE_DEFAULT_TIMEOUT_S must be a number of seconds, `0` or `none` (got {raw!r}). "
                         "Fix it, or unset it for the default of 300 s.")
    return None if seconds in (0, float("inf")) else seconds
