"""The experiment's summary and `report.json` (the issue's exact shape), the stdout table and an HTML page."""

from __future__ import annotations

import html
from typing import Any

from ..batch.runner import percentile
from .suite import Suite
from .variance import ROW_FIELDS, repeat_summary, variance_note

__all__ = ["summarize", "report_rows", "build_report", "summary_lines", "report_html", "row_passed"]


def row_passed(record: dict[str, Any]) -> bool:
    return all(result["passed"] for result in record["assertions"].values())


def summarize(suite: Suite, records: list[dict[str, Any]]) -> dict[str, Any]:
    weights = {a.name: a.weight for a in suite.assertions}
    per: dict[str, dict[str, Any]] = {a.name: {"pass_rate": 0.0, "passed": 0, "failed": 0} for a in suite.assertions}
    earned = total = 0.0
    latencies: list[float] = []
    tokens, cost, priced = 0, 0.0, True
    for record in records:
        for name, result in record["assertions"].items():
            if name not in per:
                continue
            per[name]["passed" if result["passed"] else "failed"] += 1
            earned += weights[name] * result["passed"]
            total += weights[name]
        latencies += [ms for ms in record.get("latencies", []) if isinstance(ms, int | float)]
        tokens += record.get("tokens", 0)
        if record.get("cost") is None:
            priced = priced and not record.get("run_ids")
        else:
            cost += record["cost"]
    for name, counts in per.items():
        seen = counts["passed"] + counts["failed"]
        counts["pass_rate"] = round(counts["passed"] / seen, 4) if seen else 0.0
        counts.update(repeat_summary(records, name))  # repeat > 1: the run-to-run variance
    return {"rows": len(records), "runs": sum(len(r.get("run_ids", [])) for r in records),
            "score": round(earned / total, 4) if total else 1.0, "assertions": per,
            "latency_ms": {"p50": percentile(latencies, 50) if latencies else None,
                           "p95": percentile(latencies, 95) if latencies else None},
            "tokens": tokens, "cost": round(cost, 10) if priced else None}


def row_label(record: dict[str, Any]) -> Any:
    return record["id"] if "id" in record else record["row"]


def report_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": row_label(r), "inputs": r.get("inputs", {}), "run_ids": r.get("run_ids", []),
             "assertions": {name: _row_result(res) for name, res in r["assertions"].items()}} for r in records]


def _row_result(res: dict[str, Any]) -> dict[str, Any]:
    """One row's assertion in report.json; with repeats, how many passed and each run's number."""
    out = {"passed": res["passed"], "actual": res["actual"], "expected": res["expected"]}
    if len(res.get("outcomes", [])) > 1:
        out.update({key: res[key] for key in ROW_FIELDS if key in res})
    return out


def build_report(experiment_id: str, suite: Suite, pipeline_name: str, spec_sha256: str,
                 records: list[dict[str, Any]], baseline: dict[str, Any] | None,
                 gate: dict[str, Any]) -> dict[str, Any]:
    return {"experiment_id": experiment_id, "suite": suite.name,
            "pipeline": {"name": pipeline_name, "spec_sha256": spec_sha256},
            "summary": summarize(suite, records), "rows": report_rows(records), "baseline": baseline, "gate": gate}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _delta(value: float | None, pct: bool = True) -> str:
    if value is None:
        return ""
    return f" ({'+' if value >= 0 else ''}{value * 100:.1f} pts)" if pct else f" ({'+' if value >= 0 else ''}{value:g})"


def summary_lines(report: dict[str, Any], records: list[dict[str, Any]] | None = None, failures: int = 10) -> list[str]:
    """The table printed on stdout: one line per assertion, then totals, baseline, failures and the gate."""
    s, base = report["summary"], report.get("baseline") or {}
    deltas = base.get("assertions", {})
    width = max([len(n) for n in s["assertions"]] + [9])
    lines = [f"experiment {report['experiment_id']}  suite {report['suite']}  pipeline {report['pipeline']['name']} "
             f"({report['pipeline']['spec_sha256'][:12]})", "",
             f"{'assertion':<{width}}  {'pass rate':>9}  {'passed':>6}  {'failed':>6}"]
    for name, counts in s["assertions"].items():
        change = _delta(deltas.get(name, {}).get("pass_rate_delta")) if base else ""
        lines.append(f"{name:<{width}}  {_pct(counts['pass_rate']):>9}  {counts['passed']:>6}  {counts['failed']:>6}{change}"
                     f"{variance_note(counts)}")
    lat = s["latency_ms"]
    cost = "unknown" if s["cost"] is None else f"${s['cost']:.4f}"
    lines += ["", f"score {_pct(s['score'])}{_delta(base.get('score_delta')) if base else ''}  rows {s['rows']}  "
                  f"runs {s['runs']}  latency p50 {lat['p50'] or 0:.0f} ms, p95 {lat['p95'] or 0:.0f} ms  "
                  f"tokens {s['tokens']:,}  cost {cost}"]
    if base:
        lines.append(f"baseline {base['experiment_id']}: {len(base['regressions'])} regressed, "
                     f"{len(base['improvements'])} improved")
        if base["regressions"]:
            lines.append("  regressed rows: " + ", ".join(str(r) for r in base["regressions"][:50]))
        lines += graph_diff_lines(base.get("graph_diff"))
    if records:
        lines += _failure_lines(records, failures)
    gate = report["gate"]
    lines.append("gate: " + ("passed" if gate["passed"] else "FAILED"))
    lines += [f"  - {reason}" for reason in gate["reasons"]]
    return lines


def _failure_lines(records: list[dict[str, Any]], limit: int) -> list[str]:
    failing = [(row_label(r), name, res["message"]) for r in records for name, res in r["assertions"].items()
               if not res["passed"]]
    if not failing:
        return []
    out = [f"failures ({len(failing)}; first {min(limit, len(failing))}):"]
    out += [f"  row {row} {name}: {message}" for row, name, message in failing[:limit]]
    return out


def graph_diff_lines(diff: dict[str, Any] | None) -> list[str]:
    if not diff or not any(diff.values()):
        return [] if diff is None else ["  pipeline: unchanged"]
    out = ["  pipeline changes:"]
    out += [f"    + node {n}" for n in diff.get("nodes_added", [])]
    out += [f"    - node {n}" for n in diff.get("nodes_removed", [])]
    for node, params in diff.get("params_changed", {}).items():
        for name, change in params.items():
            if change.get("diff"):
                out.append(f"    ~ {node}.{name}:")
                out += [f"        {line}" for line in change["diff"][:40]]
            else:
                out.append(f"    ~ {node}.{name}: {change['old']!r} -> {change['new']!r}")
    out += [f"    + edge {e}" for e in diff.get("edges_added", [])]
    out += [f"    - edge {e}" for e in diff.get("edges_removed", [])]
    for node, change in diff.get("components_changed", {}).items():
        out.append(f"    ~ {node}: {change['old']} -> {change['new']}")
    return out


def report_html(report: dict[str, Any]) -> str:
    """A self-contained page: summary, gate, baseline and the rows × assertions table."""
    esc = html.escape
    names = list(report["summary"]["assertions"])
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    body = []
    for row in report["rows"]:
        cells = "".join(_cell(row["assertions"].get(n)) for n in names)
        body.append(f"<tr><td>{esc(str(row['id']))}</td>{cells}</tr>")
    summary = "\n".join(summary_lines(report))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(report['suite'])}</title><style>"
            "body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
            "table{border-collapse:collapse}.pass{background:#d9f2d9}.fail{background:#f7d4d4}pre{background:#f5f5f5;"
            "padding:1em}</style></head><body>"
            f"<h1>{esc(report['suite'])}</h1><pre>{esc(summary)}</pre>"
            f"<table><tr><th>row</th>{head}</tr>{''.join(body)}</table></body></html>")


def _cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "<td></td>"
    title = html.escape(f"actual: {result['actual']!r}\nexpected: {result['expected']!r}", quote=True)
    css, text = ("pass", "pass") if result["passed"] else ("fail", "FAIL")
    return f"<td class='{css}' title=\"{title}\">{text}</td>"
