"""Work done once when the server starts, before it serves anything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

__all__ = ["prepared_database"]

log = logging.getLogger("editor")


@contextlib.asynccontextmanager
async def prepared_database() -> AsyncIterator[None]:
    """The database ready before the first page loads: reachable, migrated, and runs orphaned by a stopped
    server marked `interrupted` (so the history never shows them running forever). A database that cannot
    be used stops the editor with the reason, instead of pages that wait for ever. From here on, secret
    values are masked in the server's log lines (`runtime.log_redaction`)."""
    from runtime.log_redaction import install_log_redaction
    from runtime.store import DatabaseUnavailable, prepare_database

    install_log_redaction()

    try:
        await asyncio.to_thread(prepare_database)
    except DatabaseUnavailable as exc:
        log.error("error: %s", exc)  # one readable line above the server's "startup failed" report
        raise
    yield
