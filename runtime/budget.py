"""Run budgets: a spec's `"budget": {"max_cost", "max_tokens", "max_latency_s"}` stops a run that exceeds one.

Tokens and cost are counted from the model nodes' `usage` outputs as each node finishes (the same ports
`runtime.usage` sums); latency by a timer started with the run, so a node that hangs is stopped too.
Exceeding a budget fails the run (`Execution.fail`) with an error naming the budget, its limit, what was
used and the node that crossed it. A pipeline without a budget gets no guard at all: `guard_for` is None.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .events import EventFold, NodeChunk, NodeLog, NodePaused, NodeResumed, NodeRetrying, NodeSkipped
from .usage import USAGE_PORT, usage_total

__all__ = ["BudgetGuard", "guard_for", "BUDGET_ERROR"]

BUDGET_ERROR = "BudgetExceeded"


def guard_for(execution: Any) -> BudgetGuard | None:
    """The consumer enforcing the budget of `execution`'s pipeline, or None when it has none."""
    budget = getattr(execution.plan.spec, "budget", None)
    if budget is None or (budget.max_cost is None and budget.max_tokens is None and budget.max_latency_s is None):
        return None
    return BudgetGuard(budget, execution)


class BudgetGuard(EventFold):
    """Folds a run's usage; fails the run the moment a limit is crossed. It must be the run's last consumer
    (it stops the run while the executor hands the crossing node's event out)."""

    IGNORES = (NodeChunk, NodeLog, NodeRetrying, NodeSkipped, NodePaused, NodeResumed)

    def __init__(self, budget: Any, execution: Any):
        self.budget, self.execution = budget, execution
        self.tokens, self.cost = 0, 0.0
        self.running: dict[str, None] = {}  # started, not yet finished (for the latency budget's message)
        self.components = {node.id: node.component_id for node in execution.plan.nodes}
        self._timer: asyncio.TimerHandle | None = None
        self._tripped = False

    def on_run_started(self, event: Any) -> None:
        if self.budget.max_latency_s is not None:
            self._timer = asyncio.get_running_loop().call_later(self.budget.max_latency_s, self._too_slow)

    def on_run_finished(self, event: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def on_node_started(self, event: Any) -> None:
        self.running[event.node_id] = None

    def on_node_finished(self, event: Any) -> None:
        self.running.pop(event.node_id, None)
        if event.outputs.get(USAGE_PORT) is None:
            return
        usage = usage_total([event.outputs])  # the run record's rule: what this node's `usage` port says
        if not usage.counted:
            return
        self.tokens += usage.total_tokens
        self.cost += usage.cost_usd or 0.0
        self._check_usage(event.node_id)

    def on_node_cached(self, event: Any) -> None:
        self.running.pop(event.node_id, None)  # reused outputs spent nothing in this run

    def on_node_failed(self, event: Any) -> None:
        self.running.pop(event.node_id, None)

    def on_node_cancelled(self, event: Any) -> None:
        self.running.pop(event.node_id, None)

    def _check_usage(self, node_id: str) -> None:
        max_tokens, max_cost = self.budget.max_tokens, self.budget.max_cost
        where = f"node `{node_id}` (`{self.components.get(node_id, '?')}`)"
        if max_tokens is not None and self.tokens > max_tokens:
            self._trip(f"Budget `max_tokens` exceeded: limit {max_tokens} tokens, used {self.tokens} after {where} "
                       "finished. Raise `budget.max_tokens` in the spec, or lower the node's `max_tokens`.", node_id)
        elif max_cost is not None and self.cost > max_cost:
            self._trip(f"Budget `max_cost` exceeded: limit ${max_cost:g}, used ${self.cost:.6g} after {where} "
                       "finished. Raise `budget.max_cost` in the spec, or use a cheaper model.", node_id)

    def _too_slow(self) -> None:
        limit = self.budget.max_latency_s
        nodes = ", ".join(f"`{n}` (`{self.components.get(n, '?')}`)" for n in self.running) or "none"
        self._trip(f"Budget `max_latency_s` exceeded: limit {limit:g} s, used {limit:g} s; still running: {nodes}. "
                   "Raise `budget.max_latency_s` in the spec, or set a `policy.timeout_s` on the slow node.")

    def _trip(self, message: str, node_id: str | None = None) -> None:
        if self._tripped:
            return
        self._tripped = True
        self.execution.fail(message, BUDGET_ERROR, finished_node=node_id)
