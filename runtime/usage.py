"""Token usage and cost of a run, summed over its model nodes' `usage` outputs.

One total for every place that reports it (the run record's tokens and cost, a batch row's `usage`, the
usage of an OpenAI-compatible answer, an eval's token assertions, a budget). Only output ports named `usage` count: a usage value passed on to another node (an `io.output`, a join)
is the same spending seen twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["UsageTotal", "usage_total", "usage_output", "USAGE_PORT", "TOKEN_FIELDS"]

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


def usage_output(outputs: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A node's TokenUsage-shaped `usage` output as a mapping (a model is dumped), or None."""
    usage = (outputs or {}).get(USAGE_PORT)
    if usage is not None and not isinstance(usage, Mapping) and hasattr(usage, "model_dump"):
        usage = usage.model_dump()  # a live result's TokenUsage; stored records hold its JSON
    if not isinstance(usage, Mapping) or not any(name in usage for name in TOKEN_FIELDS):
        return None
    return usage


def usage_total(node_outputs: Iterable[Mapping[str, Any] | None]) -> UsageTotal:
    """The sum of every TokenUsage-shaped `usage` output (JSON dicts as stored, or models) over the nodes."""
    tokens = dict.fromkeys(TOKEN_FIELDS, 0)
    cost, priced, counted = 0.0, False, 0
    for outputs in node_outputs:
        usage = usage_output(outputs)
        if usage is None:
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
