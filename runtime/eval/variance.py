"""Run-to-run variance when a suite has `repeat > 1`: each row runs several times and its repeats may disagree.

Per assertion, the summary adds the pass rate of each repeat round (repeat k: the rows whose k-th run passed),
its standard deviation, how many rows are flaky (some repeats pass, some fail) and, for assertions on a
number (a score, a latency, a cost), the mean over rows of the standard deviation of that number across the
repeats. With `repeat: 1` nothing is added: the report keeps exactly the shape of a single run.
"""

from __future__ import annotations

from statistics import fmean, pstdev
from typing import Any

__all__ = ["repeat_fields", "repeat_summary", "variance_note", "ROW_FIELDS"]

ROW_FIELDS = ("passes", "runs", "values")  # per row and assertion in report.json, when repeat > 1


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def repeat_fields(outcomes: list[Any]) -> dict[str, Any]:
    """What a row's record keeps of an assertion's repeats: each pass/fail and each numeric value."""
    if len(outcomes) < 2:
        return {}
    values = [_number(o.actual) for o in outcomes]
    return {"outcomes": [bool(o.passed) for o in outcomes],
            **({"values": values} if any(v is not None for v in values) else {})}


def repeat_summary(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The variance fields of assertion `name` over the rows (empty when no row ran more than once)."""
    rounds = [r["assertions"][name]["outcomes"] for r in records
              if len(r.get("assertions", {}).get(name, {}).get("outcomes", [])) > 1]
    if not rounds:
        return {}
    repeat = min(len(o) for o in rounds)
    per_repeat = [round(sum(o[k] for o in rounds) / len(rounds), 4) for k in range(repeat)]
    out: dict[str, Any] = {"pass_rate_per_repeat": per_repeat, "pass_rate_stddev": round(pstdev(per_repeat), 4),
                           "flaky": sum(0 < sum(o) < len(o) for o in rounds)}
    spreads = [pstdev(numbers) for r in records
               if len(numbers := [v for v in r["assertions"].get(name, {}).get("values") or [] if v is not None]) > 1]
    if spreads:
        out["value_stddev"] = round(fmean(spreads), 6)
    return out


def variance_note(counts: dict[str, Any]) -> str:
    """The summary table's addition to an assertion's line, when it ran repeatedly."""
    if "pass_rate_stddev" not in counts:
        return ""
    repeats = len(counts["pass_rate_per_repeat"])
    value = f", value stddev {counts['value_stddev']:.4g}" if "value_stddev" in counts else ""
    return (f"  ±{counts['pass_rate_stddev'] * 100:.1f} pts over {repeats} repeats, {counts['flaky']} flaky "
            f"row(s){value}")
