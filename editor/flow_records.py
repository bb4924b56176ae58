"""Reading the stored records of nodes inside a flow node (`map1/3/summarise`), off the event loop.

Data only, like `editor.state.run_data`: the run's spec and the node records under one path prefix, read
with one query (a 10,000-item map is not read whole to show one item).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from runtime.store.db import session
from runtime.store.recorder import RunRecorder
from runtime.store.tables import NodeRecord, RunRecord

__all__ = ["read_under"]


def _read_under(run_id: str, prefix: str) -> tuple[dict[str, Any] | None, dict[str, NodeRecord]]:
    RunRecorder().flush(5.0)  # the recorder writes from a thread: what just finished is then stored
    with session() as s:
        run = s.get(RunRecord, run_id)
        if run is None:
            return None, {}
        query = select(NodeRecord).where(NodeRecord.run_id == run_id,
                                         col(NodeRecord.node_id).startswith(prefix, autoescape=True))
        return run.spec, {n.node_id: n for n in s.exec(query)}


async def read_under(run_id: str, prefix: str) -> tuple[dict[str, Any] | None, dict[str, NodeRecord]]:
    """The run's stored spec (None: no such run) and its node records whose id starts with `prefix`."""
    return await asyncio.to_thread(_read_under, run_id, prefix)
