"""Aggregates of the run history per pipeline (and version) over a window: runs, error rate, p50/p95 latency,
tokens and cost, per node too. What `patchwire runs stats` prints and the editor's Monitor tab plots
(`run_series`: the same numbers per time bucket).

A pipeline's version is the short hash of the spec a run recorded, so an edit that changed the graph or a
param shows up as a new version even when nobody saved one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import and_, col, or_, select

from ..usage import usage_total
from .db import session
from .tables import NodeRecord, RunRecord, utcnow

__all__ = ["Stats", "PipelineStats", "SeriesPoint", "run_stats", "run_series", "spec_version", "percentile"]

_CHUNK = 500  # run ids per node query


@dataclass
class Stats:
    """One pipeline's (or node's) numbers; latencies in ms, None when nothing finished."""

    runs: int = 0
    failed: int = 0
    error_rate: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    tokens: int = 0
    cost_usd: float | None = None


@dataclass
class PipelineStats(Stats):
    pipeline: str = ""
    version: str | None = None  # set when grouped by version
    nodes: dict[str, Stats] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (`q` in 0..100) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return round(ordered[int(rank) - 1], 3)


def spec_version(spec: Any) -> str:
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_stats(*, pipeline: str | None = None, since: timedelta | None = None, by_version: bool = False,
              url: str | None = None, pipeline_id: str | None = None, version: str | None = None
              ) -> list[PipelineStats]:
    """Finished runs (not `running`) started within `since` (default: all), grouped by pipeline name.

    `pipeline_id`: the runs of that saved pipeline, plus those of its spec (`pipeline`, the spec's name) started
    outside the editor, which carry no pipeline id (as the editor's history lists them). `version`: only the
    runs of that `spec_version`.
    """
    with session(url) as s:
        runs = _finished_runs(s, pipeline, pipeline_id, since, version, utcnow())
        nodes = _nodes_of(s, [run.id for run in runs])
    groups: dict[tuple[str, str | None], list[RunRecord]] = {}
    for run in runs:
        key = (run.pipeline_name, spec_version(run.spec) if by_version else None)
        groups.setdefault(key, []).append(run)
    return [_pipeline_stats(name, version, members, nodes) for (name, version), members in sorted(
        groups.items(), key=lambda item: (item[0][0], _newest(item[1])), reverse=False)]


@dataclass
class SeriesPoint(Stats):
    """The runs started in [start, end): one point of a time series."""

    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime = field(default_factory=lambda: datetime.now(UTC))


def run_series(*, pipeline: str | None = None, pipeline_id: str | None = None, since: timedelta | None = None,
               version: str | None = None, buckets: int = 24, now: datetime | None = None,
               url: str | None = None) -> list[SeriesPoint]:
    """`run_stats`' pipeline numbers per time bucket: `buckets` equal slices of the window, oldest first,
    empty ones included (runs 0, latencies None) so a chart's time axis has no gaps.

    The window is `since` back from `now`; without `since`, from the oldest matching run (none: no points).
    The runs of every pipeline that matches are counted together.
    """
    if buckets < 1:
        raise ValueError(f"run_series: buckets must be at least 1, got {buckets}.")
    now = _aware(now or utcnow())
    with session(url) as s:
        runs = _finished_runs(s, pipeline, pipeline_id, since, version, now)
    if since is None and not runs:
        return []
    start = now - since if since is not None else min(_aware(run.started_at) for run in runs)
    width = max((now - start) / buckets, timedelta(seconds=1))
    members: list[list[RunRecord]] = [[] for _ in range(buckets)]
    for run in runs:
        index = int((_aware(run.started_at) - start) / width)
        members[min(max(index, 0), buckets - 1)].append(run)
    points = []
    for index, bucket in enumerate(members):
        point = SeriesPoint(start=start + index * width, end=start + (index + 1) * width)
        _fill(point, [(r.status, r.latency_ms) for r in bucket])
        point.tokens = sum(r.total_tokens or 0 for r in bucket)
        point.cost_usd = _cost(r.cost_usd for r in bucket)
        points.append(point)
    return points


def _finished_runs(s: Any, pipeline: str | None, pipeline_id: str | None, since: timedelta | None,
                   version: str | None, now: datetime) -> list[RunRecord]:
    query = select(RunRecord).where(RunRecord.status != "running", col(RunRecord.started_at) <= now)
    if pipeline_id is not None:
        mine = RunRecord.pipeline_id == pipeline_id
        if pipeline:
            mine = or_(mine, and_(col(RunRecord.pipeline_id).is_(None), RunRecord.pipeline_name == pipeline))
        query = query.where(mine)
    elif pipeline is not None:
        query = query.where(RunRecord.pipeline_name == pipeline)
    if since is not None:
        query = query.where(col(RunRecord.started_at) >= now - since)
    runs = list(s.exec(query))
    return runs if version is None else [run for run in runs if spec_version(run.spec) == version]


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC), PostgreSQL aware ones."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _newest(runs: list[RunRecord]) -> datetime:
    return max(_aware(run.started_at) for run in runs)


def _nodes_of(s: Any, run_ids: list[str]) -> dict[str, list[NodeRecord]]:
    by_run: dict[str, list[NodeRecord]] = {}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start:start + _CHUNK]
        for node in s.exec(select(NodeRecord).where(col(NodeRecord.run_id).in_(chunk))):
            by_run.setdefault(node.run_id, []).append(node)
    return by_run


def _pipeline_stats(name: str, version: str | None, runs: list[RunRecord],
                    nodes: dict[str, list[NodeRecord]]) -> PipelineStats:
    result = PipelineStats(pipeline=name, version=version)
    _fill(result, [(r.status, r.latency_ms) for r in runs])
    result.tokens = sum(r.total_tokens or 0 for r in runs)
    result.cost_usd = _cost(r.cost_usd for r in runs)
    per_node: dict[str, list[NodeRecord]] = {}
    for run in runs:
        for node in nodes.get(run.id, []):
            if node.status in ("succeeded", "failed"):  # ran in this run (not cached, skipped, cancelled)
                per_node.setdefault(node.node_id, []).append(node)
    for node_id, records in per_node.items():
        stats = Stats()
        _fill(stats, [(n.status, n.latency_ms) for n in records])
        usage = usage_total(n.outputs for n in records)
        stats.tokens, stats.cost_usd = usage.total_tokens, usage.cost_usd
        result.nodes[node_id] = stats
    return result


def _fill(stats: Stats, outcomes: list[tuple[str, float | None]]) -> None:
    stats.runs = len(outcomes)
    stats.failed = sum(1 for status, _ in outcomes if status in ("failed", "interrupted"))
    stats.error_rate = round(stats.failed / stats.runs, 4) if stats.runs else 0.0
    latencies = [latency for _, latency in outcomes if latency is not None]
    stats.p50_ms, stats.p95_ms = percentile(latencies, 50), percentile(latencies, 95)


def _cost(values: Iterable[float | None]) -> float | None:
    priced = [v for v in values if v is not None]
    return round(sum(priced), 10) if priced else None
