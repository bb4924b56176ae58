"""What the Monitor tab, the canvas heat map and the inspector's network line show: pure functions of the run
stats (`runtime.store.stats`) and a run's recorded egress (`runtime.egress`). No Reflex here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict

from runtime.egress import summary_line
from runtime.store.stats import SeriesPoint, Stats

from .run_views import format_cost, format_ms

__all__ = ["WINDOWS", "HeatMetric", "NodeRow", "Totals", "window_of", "buckets_of", "chart_rows", "totals",
           "node_rows", "heat_map", "heat_color", "network_lines", "run_network_line"]

# The Monitor tab's windows: key -> (label, length back from now or None for all, time buckets in the charts)
WINDOWS: dict[str, tuple[str, timedelta | None, int]] = {
    "1h": ("Last hour", timedelta(hours=1), 12),
    "24h": ("Last 24 hours", timedelta(hours=24), 24),
    "7d": ("Last 7 days", timedelta(days=7), 28),
    "all": ("All runs", None, 24),
}
HeatMetric = Literal["latency", "cost"]
# The heat map's colour scale, from the cheapest / fastest node to the most expensive / slowest one.
HEAT_STOPS = ((0.0, (22, 163, 74)), (0.5, (234, 179, 8)), (1.0, (220, 38, 38)))  # green, amber, red
NO_VALUE_COLOR = "#cbd5e1"  # ran, but has no value for the metric (a node that calls no model has no cost)


class Totals(TypedDict):
    runs: int
    error_rate: str
    p50: str
    p95: str
    tokens: int
    cost: str


class NodeRow(Totals):
    """One row of the Monitor tab's node table: the totals of one node, and its cost per run."""

    node_id: str
    cost_per_run: str


def window_of(key: str) -> timedelta | None:
    """The window's length (None: all runs); an unknown key is the default, 24 hours."""
    return WINDOWS.get(key, WINDOWS["24h"])[1]


def buckets_of(key: str) -> int:
    return WINDOWS.get(key, WINDOWS["24h"])[2]


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _bucket_label(start: datetime, width: timedelta) -> str:
    if width < timedelta(hours=1):
        return start.strftime("%H:%M")
    if width < timedelta(days=1):
        return start.strftime("%b %d %H:%M")
    return start.strftime("%b %d")


def chart_rows(points: list[SeriesPoint]) -> list[dict[str, Any]]:
    """One row per time bucket for the charts (recharts leaves a gap where a latency is None)."""
    rows = []
    for point in points:
        rows.append({
            "t": _bucket_label(point.start, point.end - point.start), "runs": point.runs, "failed": point.failed,
            "error_rate": round(point.error_rate * 100, 1), "p50": point.p50_ms, "p95": point.p95_ms,
            "tokens": point.tokens, "cost": point.cost_usd if point.cost_usd is not None else 0.0,
        })
    return rows


def totals(stats: Stats | None) -> Totals:
    stats = stats or Stats()
    return Totals(runs=stats.runs, error_rate=_percent(stats.error_rate), p50=format_ms(stats.p50_ms) or "—",
                  p95=format_ms(stats.p95_ms) or "—", tokens=stats.tokens,
                  cost=format_cost(stats.cost_usd) if stats.cost_usd is not None else "—")


def node_rows(nodes: Mapping[str, Stats], order: Iterable[str] = ()) -> list[NodeRow]:
    """The node table: nodes in `order` (the spec's) first, then any others the runs had (an older version's)."""
    ordered = [n for n in order if n in nodes] + sorted(n for n in nodes if n not in set(order))
    rows = []
    for node_id in ordered:
        s = nodes[node_id]
        per_run = s.cost_usd / s.runs if s.cost_usd is not None and s.runs else None
        rows.append(NodeRow(node_id=node_id, runs=s.runs, error_rate=_percent(s.error_rate),
                            p50=format_ms(s.p50_ms) or "—", p95=format_ms(s.p95_ms) or "—", tokens=s.tokens,
                            cost=format_cost(s.cost_usd) if s.cost_usd is not None else "—",
                            cost_per_run=format_cost(per_run) if per_run is not None else "—"))
    return rows


def heat_color(t: float) -> str:
    """The scale's colour at `t` (0: the lowest value, 1: the highest), as `#rrggbb`."""
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(HEAT_STOPS, HEAT_STOPS[1:], strict=False):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(c0, c1, strict=True))
    return "#" + "".join(f"{v:02x}" for v in HEAT_STOPS[-1][1])


def _heat_value(stats: Stats, metric: HeatMetric) -> float | None:
    if metric == "latency":
        return stats.p95_ms
    return stats.cost_usd / stats.runs if stats.cost_usd is not None and stats.runs else None


def heat_map(nodes: Mapping[str, Stats], metric: HeatMetric) -> dict[str, dict[str, Any]]:
    """The canvas overlay: per node its p95 latency or its cost per run, as a label and a colour on the scale
    from the lowest to the highest node (a single node, or equal values, sit in the middle)."""
    values = {node_id: _heat_value(s, metric) for node_id, s in nodes.items()}
    known = [v for v in values.values() if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    heat: dict[str, dict[str, Any]] = {}
    for node_id, value in values.items():
        if value is None:
            label = "no cost" if metric == "cost" else "—"
            heat[node_id] = {"label": label, "color": NO_VALUE_COLOR, "value": None}
            continue
        t = (value - low) / (high - low) if high > low else 0.5
        label = format_ms(value) if metric == "latency" else f"{format_cost(value)}/run"
        heat[node_id] = {"label": label, "color": heat_color(t), "value": round(value, 9)}
    return heat


def _targets(entries: list[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for entry in entries:
        target = f"{entry['host']}:{entry['port']}"
        counts[target] = counts.get(target, 0) + 1
    return ", ".join(f"{target} ×{n}" for target, n in counts.items())


def network_lines(entries: list[Mapping[str, Any]] | None) -> dict[str, str]:
    """Per node that made outbound connections in the run: `Network: api.openai.com:443 ×2`."""
    by_node: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries or []:
        if entry.get("kind") == "connect" and entry.get("node"):
            by_node.setdefault(str(entry["node"]), []).append(entry)
    return {node_id: f"Network: {_targets(connects)}" for node_id, connects in by_node.items()}


def run_network_line(entries: list[Mapping[str, Any]] | None) -> str:
    """The run summary's line (`runtime.egress.summary_line`), naming the connections made outside any node."""
    entries = list(entries or [])
    line = summary_line(entries)  # type: ignore[arg-type]
    stray = [e for e in entries if e.get("kind") == "connect" and e.get("node") is None]
    return f"{line}. Outside any node: {_targets(stray)}" if stray else line
