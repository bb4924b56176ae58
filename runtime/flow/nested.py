"""The nested run behind each sub-run: `SubRun` (an `Execution` that can run in the caller's task) and
`Forward`, its one consumer. Imported by `subrun.run_subflow` when a flow node first runs (the executor
imports the flow components through validation, so this module cannot be imported before it)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..deadlines import DefaultDeadline
from ..events import NodeFailed, RunFinished
from ..executor import Execution

if TYPE_CHECKING:
    from ..plan import Plan, PlanNode

__all__ = ["Forward", "SubRun"]

_UNKNOWN = object()  # a sub-run without a run around it


class Forward:
    """The sub-run's only consumer: keeps its ending and its failure, and rewrites each node event onto the
    parent run when some consumer there wants it (a failure always, for an enclosing sub-run to name it)."""

    __slots__ = ("parent", "prefix", "prefix_text", "run_id", "failed", "finished", "wants_inner_events", "nested")

    def __init__(self, parent: Any, prefix: list[Any], run_id: str, wanted: bool):
        self.parent, self.prefix, self.run_id = parent, prefix, run_id
        self.prefix_text = ""  # spelled when the first event is forwarded (most sub-runs forward none)
        self.failed: NodeFailed | None = None
        self.finished: RunFinished | None = None
        self.wants_inner_events = wanted and parent is not None  # read by a nested flow node's sub-runs
        self.nested = isinstance(parent, SubRun)

    def __call__(self, event: Any) -> None:
        cls = event.__class__
        if cls is RunFinished:
            self.finished = event
            return
        failure = cls is NodeFailed and not event.handled
        if not (self.wants_inner_events or failure):
            return
        inner = event.node_path
        if not self.prefix_text:
            self.prefix_text = "".join(f"{part}/" for part in self.prefix)
        if inner is None:  # an inner node's own event (a deeper one already spells its path)
            event.node_path, event.node_id = [*self.prefix, event.node_id], self.prefix_text + event.node_id
        else:
            event.node_path, event.node_id = [*self.prefix, *inner], self.prefix_text + event.node_id
        event.run_id = self.run_id
        if failure and self.failed is None:
            self.failed = event
        if self.wants_inner_events or self.nested:
            self.parent.forward(event)


class SubRun(Execution):
    """A sub-run that can run in the task asking for it (`run_here`).

    The first node it would launch runs in the calling task, the others get tasks of their own as usual.
    The executor treats that task as the node's: a deadline or an abort cancels it like any node task; the
    cancellations its own abort made are taken back here, one from outside is passed on."""

    def __init__(self, plan: Plan, inputs: dict[str, Any], *, run_id: str, cache: Any,
                 prefix: tuple[Any, ...] = (), outer: Any = None):
        """`prefix`: the path of this sub-run in the top-level run (`("nested", 1, "m2", 0)`); `outer`: the run
        it is part of, whose default time limit it shares (and whose timer checks it)."""
        self._outer_deadline = getattr(outer, "_deadline", None) if isinstance(outer, Execution) else _UNKNOWN
        super().__init__(plan, inputs, run_id=run_id, cache=cache)
        self.node_prefix = prefix
        self._caller: asyncio.Task[Any] | None = None
        self._first: tuple[PlanNode, dict[str, Any]] | None = None
        self._owed = 0  # cancellations of the caller's task made by this run's own abort

    def _default_deadline(self) -> DefaultDeadline | None:
        outer = self._outer_deadline
        if outer is _UNKNOWN:  # run on its own (a flow component called directly): the setting decides
            return super()._default_deadline()
        if outer is None:  # the run has no default time limit
            return None
        return DefaultDeadline(outer.limit, self._tasks, outer._root or outer)

    def _announce(self) -> None:
        """No `RunStarted`: its one consumer, `Forward`, would drop it (a sub-run's start is its flow node's)."""

    @property
    def node_prefix_text(self) -> str:  # type: ignore[override]
        """`nested/1/m2/0/`: made when asked (a traced call, a breakpoint), not per item."""
        return "".join(f"{part}/" for part in self.node_prefix)

    async def run_here(self, consumer: Any) -> None:
        """Run to the end in the calling task, handing every event to `consumer`."""
        caller = self._caller = asyncio.current_task()
        assert caller is not None
        before = caller.cancelling()
        self._consumers = (consumer,)
        self._done = asyncio.get_running_loop().create_future()
        try:
            self._start()
            if self._first is not None and not self._finished:
                await self._run_node(*self._first)
            for _ in range(self._owed):
                caller.uncancel()
            self._owed = 0
            if caller.cancelling() > before:  # cancelled from outside while its node ran: pass it on
                raise asyncio.CancelledError
            if not self._finished:
                await self._done
        finally:
            self._caller = None
            for index in [i for i, task in self._tasks.items() if task is caller]:
                del self._tasks[index]  # `aclose` waits for the run's tasks: not for the one running it
            await self.aclose()
        if self._consumer_error is not None:
            raise self._consumer_error

    def _launch(self, node: PlanNode, kwargs: dict[str, Any]) -> None:
        if self._caller is not None and self._first is None:
            self._first = (node, kwargs)
            self._tasks[node.index] = self._caller
        else:
            super()._launch(node, kwargs)

    def _abort(self, reason: str, status: str) -> None:
        caller = self._caller
        before = caller.cancelling() if caller is not None else 0
        super()._abort(reason, status)
        if caller is not None:
            self._owed += caller.cancelling() - before
