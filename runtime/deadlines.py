"""The default time limit for nodes without `policy.timeout_s`, at one timer per run, not one per node.

A node attempt is noted when its component is called and forgotten when the call returns (two dict
operations); a single timer fires at the earliest deadline, cancels the tasks whose attempts ran out and
re-arms for the next one. The executor turns that cancellation into a retryable `TimeoutError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

__all__ = ["DefaultDeadline", "default_timeout_message"]

_perf = time.perf_counter


def default_timeout_message(limit: float) -> str:
    return (f"timed out after {limit:g} s (default timeout; set policy.timeout_s to give this node more time, "
            "or PATCHWIRE_DEFAULT_TIMEOUT_S for every node)")


class DefaultDeadline:
    """Watches the running attempts of one run; `tasks` maps node index to the task running it."""

    __slots__ = ("limit", "running", "expired", "_tasks", "_timer")

    def __init__(self, limit: float, tasks: Mapping[int, asyncio.Task[None]]):
        self.limit = limit
        self.running: dict[int, float] = {}  # node index -> when its attempt started (perf_counter)
        self.expired: set[int] = set()  # nodes whose task this cancelled and that have not seen it yet
        self._tasks = tasks
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, index: int, started: float) -> None:
        self.running[index] = started
        if self._timer is None:
            self._arm(started + self.limit)

    def finish(self, index: int) -> bool:
        """The attempt of node `index` returned or raised: True when this deadline had cancelled it (then
        that cancellation is undone, so the task can go on to a retry or to its next node)."""
        self.running.pop(index, None)
        if not self.expired or index not in self.expired:
            return False
        self.expired.discard(index)
        task = self._tasks.get(index)
        if task is not None:
            task.uncancel()
        return True

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, at: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(max(0.0, at - _perf()), self._check)

    def _check(self) -> None:
        self._timer = None
        now, soonest = _perf(), None
        for index, started in list(self.running.items()):
            if now - started >= self.limit:
                del self.running[index]
                self.expired.add(index)
                self._tasks[index].cancel(default_timeout_message(self.limit))
            elif soonest is None or started < soonest:
                soonest = started
        if soonest is not None:
            self._arm(soonest + self.limit)
