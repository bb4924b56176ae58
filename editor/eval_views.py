"""What the Evaluate panel shows of a dataset, an experiment and its comparison with a baseline: plain data for
the table, the stat cards, the charts and the canvas outline. Pure functions of report dicts (the shape of
`patchwire eval -o report.json`); no Reflex here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from runtime.batch.runner import BatchError, read_dataset
from runtime.text import shorten

from .run_views import format_cost, format_ms

__all__ = ["Preview", "ResultRow", "preview", "result_rows", "summary_cards", "comparison_cards", "pass_rate_bars",
           "latency_bins", "cost_bars", "diff_outlines", "param_diffs", "progress_text", "DATASET_SUFFIXES"]

DATASET_SUFFIXES = (".jsonl", ".ndjson", ".csv")


class Preview(TypedDict):
    columns: list[str]
    rows: list[list[str]]
    count: int
    error: str


class Cell(TypedDict):
    name: str
    passed: bool
    title: str


class ResultRow(TypedDict):
    id: str
    run_id: str
    status: str
    mark: str  # regressed | improved | "" (vs the baseline)
    cells: list[Cell]


def _text(value: Any, limit: int = 60) -> str:
    return shorten(value if isinstance(value, str) else repr(value), limit)


def preview(path: Path, limit: int = 5) -> Preview:
    """The dataset's columns and first rows (as short text), or the reason it cannot be read."""
    try:
        rows = read_dataset(path)
    except BatchError as exc:
        return Preview(columns=[], rows=[], count=0, error=str(exc))
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row.values if c not in columns]
    shown = [[_text(row.values.get(c, "")) for c in columns] for row in rows[:limit]]
    return Preview(columns=columns, rows=shown, count=len(rows),
                   error="" if rows else f"`{path.name}` has no rows.")


def result_rows(report: dict[str, Any], comparison: dict[str, Any] | None = None) -> list[ResultRow]:
    """Rows × assertions; with a baseline, the regressed rows first, then the improved ones, then the rest."""
    names = list(report["summary"]["assertions"])
    regressed = {str(r) for r in (comparison or {}).get("regressions", [])}
    improved = {str(r) for r in (comparison or {}).get("improvements", [])}
    out: list[ResultRow] = []
    for row in report["rows"]:
        row_id = str(row["id"])
        cells = [_cell(name, row["assertions"].get(name)) for name in names]
        mark = "regressed" if row_id in regressed else "improved" if row_id in improved else ""
        run_ids = row.get("run_ids") or []
        out.append(ResultRow(id=row_id, run_id=run_ids[0] if run_ids else "",
                             status="passed" if all(c["passed"] for c in cells) else "failed", mark=mark, cells=cells))
    order = {"regressed": 0, "improved": 1, "": 2}
    return sorted(out, key=lambda r: order[r["mark"]])  # stable: dataset order within each group


def _cell(name: str, result: dict[str, Any] | None) -> Cell:
    if result is None:
        return Cell(name=name, passed=False, title="not evaluated")
    title = f"{name}: actual {_text(result.get('actual'), 120)}, expected {_text(result.get('expected'), 120)}"
    return Cell(name=name, passed=bool(result["passed"]), title=title)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def summary_cards(report: dict[str, Any]) -> dict[str, str]:
    s = report["summary"]
    gate = report.get("gate") or {}
    return {"score": _pct(s["score"]), "rows": str(s["rows"]), "p50": format_ms(s["latency_ms"]["p50"]) or "–",
            "p95": format_ms(s["latency_ms"]["p95"]) or "–", "cost": format_cost(s["cost"]),
            "gate": "passed" if gate.get("passed") else "failed", "experiment_id": report["experiment_id"]}


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    size = abs(value)
    if unit == "pts":
        return f"{sign}{size * 100:.1f} pts"
    if unit == "ms":
        return f"{sign}{format_ms(size)}"
    return f"{sign}{format_cost(size)}"


def comparison_cards(comparison: dict[str, Any]) -> dict[str, str]:
    """Score, latency p95 and cost deltas; regressed and improved row counts."""
    return {"baseline": comparison["experiment_id"], "score": _signed(comparison["score_delta"], "pts"),
            "p95": _signed(comparison["latency_p95_delta"], "ms"), "cost": _signed(comparison["cost_delta"], "$"),
            "regressed": str(len(comparison["regressions"])), "improved": str(len(comparison["improvements"]))}


def pass_rate_bars(report: dict[str, Any], baseline: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One bar group per assertion: this experiment's pass rate (%) and the baseline's beside it."""
    before = (baseline or {}).get("summary", {}).get("assertions", {})
    bars = []
    for name, counts in report["summary"]["assertions"].items():
        bar: dict[str, Any] = {"assertion": name, "now": round(counts["pass_rate"] * 100, 1)}
        if baseline is not None:
            bar["baseline"] = round(before.get(name, {}).get("pass_rate", 0.0) * 100, 1)
        bars.append(bar)
    return bars


def latency_bins(latencies: list[float], bins: int = 8) -> list[dict[str, Any]]:
    """A histogram of run latencies: `[{"range": "10–20 ms", "runs": n}]` over equal-width bins."""
    values = sorted(v for v in latencies if isinstance(v, int | float))
    if not values:
        return []
    low, high = values[0], values[-1]
    if high == low:
        return [{"range": format_ms(low), "runs": len(values)}]
    width = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / width))] += 1
    return [{"range": f"{format_ms(low + i * width)}–{format_ms(low + (i + 1) * width)}", "runs": n}
            for i, n in enumerate(counts)]


def cost_bars(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cost per row in USD (0 when the models were free or not priced)."""
    return [{"row": str(r.get("id", r.get("row"))), "cost": float(r.get("cost") or 0.0)} for r in records]


def diff_outlines(diff: dict[str, Any] | None) -> dict[str, str]:
    """Node id -> how it changed against the baseline (the canvas outlines these)."""
    if not diff:
        return {}
    marks = {node: "changed" for node in diff.get("params_changed", {})}
    marks.update({node: "changed" for node in diff.get("components_changed", {})})
    marks.update({node: "added" for node in diff.get("nodes_added", [])})
    return marks


def _param(value: Any) -> str:
    return "(default)" if value is None else _text(value, 200)  # a param not in the spec takes its default


def param_diffs(diff: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The side panel: one entry per changed param (old -> new, with the line diff of a prompt)."""
    if not diff:
        return []
    out = [{"node": node, "param": name, "old": _param(change.get("old")), "new": _param(change.get("new")),
            "lines": list(change.get("diff") or [])}
           for node, params in diff.get("params_changed", {}).items() for name, change in params.items()]
    out += [{"node": node, "param": "component", "old": c["old"], "new": c["new"], "lines": []}
            for node, c in diff.get("components_changed", {}).items()]
    out += [{"node": n, "param": "(node)", "old": "", "new": "added", "lines": []} for n in diff.get("nodes_added", [])]
    out += [{"node": n, "param": "(node)", "old": "removed", "new": "", "lines": []}
            for n in diff.get("nodes_removed", [])]
    out += [{"node": "wiring", "param": "edge", "old": "", "new": e, "lines": []} for e in diff.get("edges_added", [])]
    out += [{"node": "wiring", "param": "edge", "old": e, "new": "", "lines": []} for e in diff.get("edges_removed", [])]
    return out


def progress_text(done: int, total: int, passed: int) -> str:
    rate = f", {passed / done:.0%} passing so far" if done else ""
    return f"{done} of {total} rows done{rate}"
