"""Token usage and cost of a run, summed over its model nodes' `usage` outputs.

One total for every place that reports it (the run record's tokens and cost, a batch row's `usage`).
Only output ports named `usage` count: a usage value passed on to another node (an `io.output`, a join)
is the same spending seen twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["UsageTotal", "usage_total", "USAGE_PORT", "TOKEN_FIELDS"]

USAGE_PORT = "usage"
TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


@dataclass(frozen=True, slots=True)
class UsageTotal:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None  # None: no call was priced
    counted: int = 0  # usage outputs summed

    def to_dict(self) -> dict[str, Any]:
        """A batch row's `usage`: the token counts and, when priced, `cost_usd`; `{}` when nothing used tokens."""
        if not self.counted:
            return {}
        data: dict[str, Any] = {name: getattr(self, name) for name in TOKEN_FIELDS}
        if self.cost_usd is not None:
            data["cost_usd"] = self.cost_usd
        return data


def usage_total(node_outputs: Iterable[Mapping[str, Any] | None]) -> UsageTotal:
    """The sum of every TokenUsage-shaped `usage` output (JSON dicts, as stored) over the given nodes."""
    tokens = dict.fromkeys(TOKEN_FIELDS, 0)
    cost, priced, counted = 0.0, False, 0
    for outputs in node_outputs:
        usage = (outputs or {}).get(USAGE_PORT)
        if not isinstance(usage, Mapping) or not any(name in usage for name in TOKEN_FIELDS):
            continue
        counted += 1
        for name in TOKEN_FIELDS:
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                tokens[name] += value
        price = usage.get("cost_usd")
        if isinstance(price, int | float) and not isinstance(price, bool):
            cost, priced = cost + price, True
    return UsageTotal(**tokens, cost_usd=round(cost, 10) if priced else None, counted=counted)
