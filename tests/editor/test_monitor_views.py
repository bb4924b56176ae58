"""What the Monitor tab, the heat map and the network lines show (editor.monitor_views)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from editor.monitor_views import (
    NO_VALUE_COLOR,
    buckets_of,
    chart_rows,
    heat_color,
    heat_map,
    network_lines,
    node_rows,
    run_network_line,
    totals,
    window_of,
)
from runtime.store.stats import SeriesPoint, Stats


def test_windows_and_their_buckets() -> None:
    assert window_of("1h") == timedelta(hours=1) and window_of("7d") == timedelta(days=7)
    assert window_of("all") is None and window_of("nonsense") == timedelta(hours=24)
    assert buckets_of("24h") == 24 and buckets_of("nonsense") == 24


def test_chart_rows_label_buckets_and_keep_gaps() -> None:
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    points = [SeriesPoint(runs=2, failed=1, error_rate=0.5, p50_ms=10.0, p95_ms=20.0, tokens=8, cost_usd=0.002,
                          start=start, end=start + timedelta(minutes=5)),
              SeriesPoint(start=start + timedelta(minutes=5), end=start + timedelta(minutes=10))]
    rows = chart_rows(points)
    assert rows[0] == {"t": "10:00", "runs": 2, "failed": 1, "error_rate": 50.0, "p50": 10.0, "p95": 20.0,
                       "tokens": 8, "cost": 0.002}
    assert (rows[1]["t"], rows[1]["runs"], rows[1]["p95"], rows[1]["cost"]) == ("10:05", 0, None, 0.0)
    daily = chart_rows([SeriesPoint(start=start, end=start + timedelta(days=1))])
    assert daily[0]["t"] == "Dec 01"


def test_totals_and_node_rows_in_spec_order() -> None:
    assert totals(None) == {"runs": 0, "error_rate": "0.0%", "p50": "—", "p95": "—", "tokens": 0, "cost": "—"}
    nodes = {"zeta": Stats(runs=2, p50_ms=1500.0, p95_ms=2500.0),
             "chat": Stats(runs=4, failed=1, error_rate=0.25, p50_ms=120.0, p95_ms=300.0, tokens=400, cost_usd=0.004),
             "old": Stats(runs=1)}
    rows = node_rows(nodes, order=["chat", "zeta", "gone"])
    assert [r["node_id"] for r in rows] == ["chat", "zeta", "old"]  # spec order, then nodes of older versions
    assert rows[0] == {"node_id": "chat", "runs": 4, "error_rate": "25.0%", "p50": "120 ms", "p95": "300 ms",
                       "tokens": 400, "cost": "$0.004", "cost_per_run": "$0.001"}
    assert (rows[1]["p95"], rows[1]["cost"], rows[1]["cost_per_run"]) == ("2.50 s", "—", "—")


def test_the_heat_scale_runs_green_to_amber_to_red() -> None:
    assert heat_color(0) == "#16a34a" and heat_color(0.5) == "#eab308" and heat_color(1) == "#dc2626"
    assert heat_color(-3) == heat_color(0) and heat_color(7) == heat_color(1)
    assert heat_color(0.25) == "#80ab29"  # halfway between green and amber


def test_the_heat_map_ranks_nodes_by_p95_or_cost_per_run() -> None:
    nodes = {"fast": Stats(runs=2, p95_ms=10.0), "slow": Stats(runs=2, p95_ms=1010.0),
             "mid": Stats(runs=2, p95_ms=510.0, cost_usd=0.02), "never": Stats(runs=1)}
    latency = heat_map(nodes, "latency")
    assert latency["fast"] == {"label": "10 ms", "color": heat_color(0), "value": 10.0}
    assert latency["slow"]["color"] == heat_color(1) and latency["mid"]["color"] == heat_color(0.5)
    assert latency["never"] == {"label": "—", "color": NO_VALUE_COLOR, "value": None}
    cost = heat_map(nodes, "cost")
    assert cost["mid"] == {"label": "$0.0100/run", "color": heat_color(0.5), "value": 0.01}  # one priced node: middle
    assert cost["fast"] == {"label": "no cost", "color": NO_VALUE_COLOR, "value": None}


def _entry(host: str, port: int, node: str | None, kind: str = "connect") -> dict:
    return {"host": host, "port": port, "node": node, "kind": kind, "ts": 0.0}


def test_network_lines_per_node_and_for_the_run() -> None:
    entries = [_entry("api.openai.com", 443, "chat", "dns"), _entry("api.openai.com", 443, "chat"),
               _entry("api.openai.com", 443, "chat"), _entry("127.0.0.1", 8000, "search")]
    assert network_lines(entries) == {"chat": "Network: api.openai.com:443 ×2", "search": "Network: 127.0.0.1:8000 ×1"}
    assert network_lines(None) == {} and network_lines([_entry("x", 53, "a", "dns")]) == {}
    assert run_network_line(entries).startswith("Outbound calls: 3, all made by nodes")
    assert run_network_line([]) == "Outbound calls: 0, all made by nodes"
    stray = run_network_line([*entries, _entry("db.internal", 5432, None)])
    assert stray.startswith("Outbound calls: 4, 1 outside any node (unattributed)")
    assert stray.endswith(". Outside any node: db.internal:5432 ×1")
