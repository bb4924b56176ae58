"""Work done once when the server starts."""

from __future__ import annotations

import asyncio
import logging

__all__ = ["mark_interrupted"]

log = logging.getLogger("editor")


async def mark_interrupted() -> None:
    """Runs still `running` in the database whose process died (the server stopped mid-run) become
    `interrupted`, so the history never shows them as running forever."""
    from runtime.store.runs import mark_interrupted_runs

    try:
        marked = await asyncio.to_thread(mark_interrupted_runs)
    except Exception:
        log.exception("could not mark interrupted runs")
        return
    if marked:
        log.warning("marked %d run(s) interrupted: the server stopped while they ran", len(marked))
