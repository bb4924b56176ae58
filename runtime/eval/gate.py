"""The comparison with a baseline experiment and the gate rules (pure functions over report dicts)."""

from __future__ import annotations

from typing import Any

from .diff import graph_diff
from .suite import Gate

__all__ = ["compare_reports", "evaluate_gate", "row_passes"]


def row_passes(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Row id (as text) -> whether every assertion passed."""
    return {str(row["id"]): all(r["passed"] for r in row["assertions"].values()) for row in rows}


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 6)


def compare_reports(current: dict[str, Any], baseline: dict[str, Any], current_spec: dict[str, Any] | None,
                    baseline_spec: dict[str, Any] | None) -> dict[str, Any]:
    """The report's `baseline` object: deltas, regressed and improved rows, and the graph diff."""
    now, before = current["summary"], baseline["summary"]
    was, ids = row_passes(baseline["rows"]), [str(row["id"]) for row in current["rows"]]
    is_ = row_passes(current["rows"])
    labels = {str(row["id"]): row["id"] for row in current["rows"]}
    assertions = {name: {"pass_rate_delta": _minus(counts["pass_rate"], before["assertions"].get(name, {}).get("pass_rate"))}
                  for name, counts in now["assertions"].items()}
    return {"experiment_id": baseline["experiment_id"], "score_delta": _minus(now["score"], before["score"]),
            "assertions": assertions,
            "latency_p95_delta": _minus(now["latency_ms"]["p95"], before["latency_ms"]["p95"]),
            "cost_delta": _minus(now["cost"], before["cost"]),
            "regressions": [labels[i] for i in ids if was.get(i) is True and not is_[i]],
            "improvements": [labels[i] for i in ids if was.get(i) is False and is_[i]],
            "graph_diff": graph_diff(baseline_spec, current_spec) if current_spec and baseline_spec else None}


def _relative(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return (now - before) / before if before else (0.0 if now == before else float("inf"))


def evaluate_gate(gate: Gate, summary: dict[str, Any], baseline: dict[str, Any] | None,
                  baseline_summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """`{"passed", "reasons"}`: every rule that failed, said with the numbers; rules needing a baseline
    are skipped without one (and say so)."""
    reasons: list[str] = []
    for name, least in gate.min_pass_rate.items():
        rate = summary["assertions"].get(name, {}).get("pass_rate", 0.0)
        if rate < least:
            reasons.append(f"`{name}` pass rate {rate:.1%} is below the required {least:.1%}")
    if gate.min_score is not None and summary["score"] < gate.min_score:
        reasons.append(f"score {summary['score']:.1%} is below the required {gate.min_score:.1%}")
    failed = bool(reasons)
    notes: list[str] = []
    if baseline is None:
        if gate.max_regressions is not None or gate.max_latency_p95_increase is not None:
            notes.append("no baseline: regression and latency rules not checked")
        return {"passed": not failed, "reasons": reasons + notes}
    regressions = baseline["regressions"]
    if gate.max_regressions is not None and len(regressions) > gate.max_regressions:
        shown = ", ".join(str(r) for r in regressions[:20]) + (", ..." if len(regressions) > 20 else "")
        reasons.append(f"{len(regressions)} rows regressed (allowed {gate.max_regressions}): {shown}")
    before = baseline_summary or {}
    increase = _relative(summary["latency_ms"]["p95"], (before.get("latency_ms") or {}).get("p95"))
    if gate.max_latency_p95_increase is not None and increase is not None and increase > gate.max_latency_p95_increase:
        reasons.append(f"latency p95 rose {increase:.1%} (allowed {gate.max_latency_p95_increase:.1%})")
    cost_up = _relative(summary["cost"], before.get("cost"))
    if gate.max_cost_increase is not None and cost_up is not None and cost_up > gate.max_cost_increase:
        reasons.append(f"cost rose {cost_up:.1%} (allowed {gate.max_cost_increase:.1%})")
    return {"passed": not reasons, "reasons": reasons}
