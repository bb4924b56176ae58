"""The default time limit for nodes without `policy.timeout_s`, at one timer per run, not one per node.

A node attempt is noted when its component is called and forgotten when the call returns (two dict
operations); a single timer fires at the earliest deadline, cancels the tasks whose attempts ran out and
re-arms for the next one. The executor turns that cancellation into a retryable `TimeoutError`.

A sub-run (a map item, a loop iteration) has a deadline of its own over its own nodes, but no timer: it is
`adopted` by its run's deadline while its nodes run, and that one timer checks them all. A timer armed and
cancelled per item cost about 6% of a map item's instructions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["DefaultDeadline", "default_timeout_message"]

_perf = time.perf_counter


def default_timeout_message(limit: float) -> str:
    return (f"timed out after {limit:g} s (default timeout; set policy.timeout_s to give this node more time, "
            "or PATCHWIRE_DEFAULT_TIMEOUT_S for every node)")


class DefaultDeadline:
    """Watches the running attempts of one run; `tasks` maps node index to the task running it."""

    __slots__ = ("limit", "running", "expired", "_tasks", "_timer", "_root", "_adopted")

    def __init__(self, limit: float, tasks: Mapping[int, asyncio.Task[None]], root: DefaultDeadline | None = None):
        """`root`: the deadline of the run this one's sub-run belongs to, whose timer checks this one too."""
        self.limit = limit
        self.running: dict[int, float] = {}  # node index -> when its attempt started (perf_counter)
        self.expired: set[int] = set()  # nodes whose task this cancelled and that have not seen it yet
        self._tasks = tasks
        self._timer: Any = None  # the TimerHandle; for a sub-run's, `_ADOPTED` while the root checks it
        self._root = root
        self._adopted: set[DefaultDeadline] = set()  # a root's: the sub-runs' deadlines its timer checks

    def watch(self, index: int, started: float) -> None:
        self.running[index] = started
        if self._timer is None:
            if self._root is None:
                self._arm(started + self.limit)
            else:
                self._timer = _ADOPTED
                self._root._adopt(self, started)

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
        if self._timer is _ADOPTED:
            self._root._adopted.discard(self)  # type: ignore[union-attr]
        elif self._timer is not None:
            self._timer.cancel()
        self._timer = None

    def _adopt(self, child: DefaultDeadline, started: float) -> None:
        self._adopted.add(child)
        if self._timer is None:
            self._arm(started + self.limit)

    def _arm(self, at: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(max(0.0, at - _perf()), self._check)

    def _check(self) -> None:
        self._timer = None
        now = _perf()
        soonest = self._expire(now)
        for child in list(self._adopted):
            started = child._expire(now)
            if started is None:  # nothing running there now: its next attempt is adopted again
                self._adopted.discard(child)
                child._timer = None
            elif soonest is None or started < soonest:
                soonest = started
        if soonest is not None:
            self._arm(soonest + self.limit)

    def _expire(self, now: float) -> float | None:
        """Cancel the tasks whose attempts ran out; when the earliest of the others started (None: none)."""
        soonest = None
        for index, started in list(self.running.items()):
            if now - started >= self.limit:
                del self.running[index]
                self.expired.add(index)
                self._tasks[index].cancel(default_timeout_message(self.limit))
            elif soonest is None or started < soonest:
                soonest = started
        return soonest


_ADOPTED = object()  # a sub-run's `_timer` while its run's deadline checks it
