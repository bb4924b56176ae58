"""Reading run history; marking runs whose process died as `interrupted`."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from .db import session
from .recorder import HEARTBEAT_S
from .tables import NodeRecord, RunRecord, utcnow

__all__ = ["list_runs", "get_run", "mark_interrupted_runs"]


def list_runs(pipeline_id: str | None = None, *, spec_name: str | None = None, limit: int = 100) -> list[RunRecord]:
    """Newest first. `spec_name`: also the runs of that spec started outside the editor (`patchwire run`,
    `batch`, `serve`), which carry the spec's name but no pipeline id."""
    query = select(RunRecord).order_by(col(RunRecord.started_at).desc()).limit(limit)
    if pipeline_id is not None:
        mine = RunRecord.pipeline_id == pipeline_id
        if spec_name:
            from sqlmodel import and_, or_

            mine = or_(mine, and_(col(RunRecord.pipeline_id).is_(None), RunRecord.pipeline_name == spec_name))
        query = query.where(mine)
    with session() as s:
        return list(s.exec(query))


def get_run(run_id: str) -> tuple[RunRecord, dict[str, NodeRecord]] | None:
    with session() as s:
        run = s.get(RunRecord, run_id)
        if run is None:
            return None
        nodes = s.exec(select(NodeRecord).where(NodeRecord.run_id == run_id))
        return run, {n.node_id: n for n in nodes}


def mark_interrupted_runs(url: str | None = None, *, stale_after_s: float = HEARTBEAT_S * 6) -> list[str]:
    """Runs still `running` whose process is gone (same host, dead pid) or silent too long; their ids.

    Safe with several live processes on one database: a live process's runs have a live pid on this host
    and, on any host, a heartbeat refreshed every HEARTBEAT_S by its recorder thread.
    """
    host = socket.gethostname()
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    with session(url) as s:
        running = list(s.exec(select(RunRecord).where(RunRecord.status == "running")))
        dead = [run for run in running if _owner_dead(run.owner, host) or _aware(run.heartbeat_at) < cutoff]
        for run in dead:
            run.status, run.finished_at = "interrupted", utcnow()
            run.error = {"type": "Interrupted", "message": "The server stopped while this run was in flight."}
            for node in s.exec(select(NodeRecord).where(NodeRecord.run_id == run.id)):
                if node.status in ("queued", "running", "paused"):
                    node.status, node.skip_reason = "cancelled", "the server stopped during the run"
                    s.add(node)
            s.add(run)
        s.commit()
        return [run.id for run in dead]


def _owner_dead(owner: str, host: str) -> bool:
    owner_host, _, pid = owner.rpartition(":")
    if owner_host != host or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _aware(value: Any) -> Any:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
