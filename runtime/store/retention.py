"""Run-history retention: `PATCHWIRE_RUN_RETENTION` = days and/or most runs kept per pipeline.

    PATCHWIRE_RUN_RETENTION=30d        runs older than 30 days go
    PATCHWIRE_RUN_RETENTION=1000       each pipeline keeps its newest 1,000 runs
    PATCHWIRE_RUN_RETENTION=30d,1000   both
    unset or empty                     keep everything (the default)

The recorder prunes in the background (`RunRecorder`'s writer thread, at most every PRUNE_EVERY_S);
`patchwire runs prune` does it on demand. Runs still `running` are never pruned.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select

from .db import session
from .tables import NodeRecord, RunRecord, utcnow

__all__ = ["Retention", "RetentionError", "parse_retention", "retention_from_env", "prune_runs", "RETENTION_ENV"]

RETENTION_ENV = "PATCHWIRE_RUN_RETENTION"
_CHUNK = 500


class RetentionError(ValueError):
    """A retention setting that does not parse."""


@dataclass(frozen=True)
class Retention:
    max_age: timedelta | None = None
    max_runs: int | None = None  # per pipeline

    @property
    def keeps_everything(self) -> bool:
        return self.max_age is None and self.max_runs is None


def parse_retention(text: str | None, *, where: str = RETENTION_ENV) -> Retention:
    if not text or not text.strip():
        return Retention()
    max_age, max_runs = None, None
    for part in (p.strip() for p in text.split(",")):
        if match := re.fullmatch(r"(\d+(?:\.\d+)?)d", part):
            max_age = timedelta(days=float(match.group(1)))
        elif part.isdigit() and int(part) > 0:
            max_runs = int(part)
        else:
            raise RetentionError(f"{where}={text!r}: `{part}` is neither a number of days (`30d`) nor a number of "
                                 "runs to keep per pipeline (`1000`). Use e.g. `30d`, `1000` or `30d,1000`.")
    return Retention(max_age, max_runs)


def retention_from_env() -> Retention:
    return parse_retention(os.environ.get(RETENTION_ENV))


def prune_runs(retention: Retention, url: str | None = None) -> int:
    """Delete the finished runs (and their nodes) that `retention` does not keep; how many went."""
    if retention.keeps_everything:
        return 0
    with session(url) as s:
        doomed: set[str] = set()
        finished = RunRecord.status != "running"
        if retention.max_age is not None:
            cutoff = utcnow() - retention.max_age
            doomed.update(s.exec(select(RunRecord.id).where(finished, col(RunRecord.started_at) < cutoff)))
        if retention.max_runs is not None:
            doomed.update(_beyond_newest(s, retention.max_runs))
        ids = sorted(doomed)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            s.exec(delete(NodeRecord).where(col(NodeRecord.run_id).in_(chunk)))  # type: ignore[call-overload]
            s.exec(delete(RunRecord).where(col(RunRecord.id).in_(chunk)))  # type: ignore[call-overload]
        s.commit()
    return len(ids)


def _beyond_newest(s: object, keep: int) -> list[str]:
    """Finished runs of each pipeline older than its newest `keep` runs."""
    rank = func.row_number().over(partition_by=RunRecord.pipeline_name,
                                  order_by=col(RunRecord.started_at).desc()).label("rank")
    ranked = select(RunRecord.id, RunRecord.status, rank).subquery()
    query = select(ranked.c.id).where(ranked.c.rank > keep, ranked.c.status != "running")
    return list(s.exec(query))  # type: ignore[attr-defined]
