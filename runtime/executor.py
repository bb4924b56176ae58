"""The dataflow executor: one asyncio task per node, started the moment its inputs resolve.

No rounds, no levels, no rescans: finishing a node walks only its own out-edges, so the
cost per node is constant and a pipeline's latency is its critical path. Scheduling is all
this module does; persistence, the CLI and the UI consume the event stream. Running one node (its
task, the debugger's breakpoint hook, its attempts with retries and time limits) is `runtime.node_runs`.

Secret values (`runtime.secrets`) are masked in everything that leaves a node (outputs, also those
handed downstream or cached, traces, chunks, logs, errors): a node that needs a secret reads it with
`ctx.secret`, never from upstream. With no secret in the environment this costs one test per node.
"""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .attempts import NodeOutputTypeError
from .cache import NodeCache, default_cache
from .deadlines import DefaultDeadline
from .events import (
    ErrorInfo,
    NodeCancelled,
    NodeChunk,
    NodeFailed,
    NodeLog,
    NodeSkipped,
    RunFinished,
    RunStarted,
)
from .inputs import InputTypeError, gather, why_skipped
from .node_runs import INLINE_RUN, NodeRuns
from .plan import Plan, PlanNode
from .secrets import Redactor, env_redactor, redact_text, redactor_for
from .settings import default_timeout_s

if TYPE_CHECKING:
    from .debug import Debugger, SubRunStops

__all__ = ["Execution", "NodeOutputTypeError", "InputTypeError", "INLINE_RUN"]

_perf = time.perf_counter
_now = time.time


class Execution(NodeRuns):
    """One run of a compiled plan: an async iterator of `RunEvent`s, cancellable with `cancel()`."""

    # Where this run's nodes sit in the top-level run: empty here, `[flow node, index, ...]` in a sub-run
    # (`flow.nested.SubRun`); `RunContext.node_path` and the debugger read it, the scheduling never does.
    node_prefix: tuple[Any, ...] = ()
    node_prefix_text = ""

    def __init__(self, plan: Plan, inputs: dict[str, Any], *, run_id: str | None = None,
                 cache: NodeCache | None = None, max_concurrency: int | None = None,
                 reuse: Mapping[str, dict[str, Any]] | None = None,
                 pinned: Mapping[str, dict[str, Any]] | None = None, debugger: Debugger | None = None):
        """`reuse`: node id -> outputs of an earlier run ("run from here"); `pinned`: outputs to use
        instead of running the node (a development mock). Both are reported as `NodeCached`.
        `debugger`: breakpoints that pause the run before their nodes (`runtime.debug`)."""
        self.plan = plan
        self._presets = plan.presets(reuse, pinned)
        self._cancel_requested: str | None = None
        self.run_id = run_id or uuid.uuid4().hex
        self.inputs = inputs
        self.status = "running"
        self._cache = cache if cache is not None else default_cache()
        self._limit = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._tasks: dict[int, asyncio.Task[None]] = {}  # node index -> the task that runs (or ran) it
        self._ready: list[tuple[PlanNode, dict[str, Any]]] = []  # made ready by the running node: to hand over
        self._deadline = self._default_deadline()
        n = len(plan.nodes)
        self._pending = [node.n_in for node in plan.nodes]
        self._values: list[dict[str, Any]] = [{} for _ in range(n)]
        self._alive = [False] * n
        self._dead_reason: list[str | None] = [None] * n
        self._terminal = [False] * n
        self._remaining = n
        self._input_errors: dict[int, InputTypeError] = {}  # node index -> why it fails when it starts
        self._buffer: deque[Any] = deque()
        self._consumers: tuple[Callable[[Any], None], ...] | None = None  # set by `consume`
        self._consumer_error: BaseException | None = None
        self._done: asyncio.Future[None] | None = None
        self._wakeup = asyncio.Event()
        self._secrets: set[str] = set()  # what components read through ctx.secret
        self._redact: Redactor | None = None  # the run's secret values; None: nothing to mask
        self._secrets_seen = 0  # len(self._secrets) when `_redact` was built
        self._outputs: dict[str, Any] = {}
        self._error: ErrorInfo | None = None
        self._started = self._finished = self._closed = False
        self._t0 = 0.0
        self.debugger: Debugger | SubRunStops | None = debugger  # a sub-run's: set by `flow.subrun`
        if debugger is not None:
            debugger.attach(self)

    def _default_deadline(self) -> DefaultDeadline | None:
        limit = default_timeout_s()
        return DefaultDeadline(limit, self._tasks) if limit is not None else None

    # --- the consumer's side ---------------------------------------------------------------------
    def __aiter__(self) -> Execution:
        return self

    async def __anext__(self) -> Any:
        buffer = self._buffer
        while not buffer:
            if self._closed:
                raise StopAsyncIteration
            if not self._started:
                self._start()
                continue
            self._wakeup.clear()
            await self._wakeup.wait()
        event = buffer.popleft()
        if event.__class__ is RunFinished:
            self._closed = True
        return event

    async def __aenter__(self) -> Execution:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the run if it is still going and wait briefly for its tasks to unwind."""
        if self._started and not self._finished:
            self.cancel("the event stream was closed")
        self._closed = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Cancel in-flight nodes and finish the run as `cancelled`."""
        if not self._started:
            self._cancel_requested = reason
        elif not self._finished:
            self._abort(reason, "cancelled")

    @property
    def cache(self) -> NodeCache:
        return self._cache

    @property
    def consumers(self) -> tuple[Callable[[Any], None], ...] | None:
        """What `consume` hands events to (None while the run is iterated: the iterator gets every event)."""
        return self._consumers

    def forward(self, event: Any) -> None:
        """Emit an event of a sub-run (a flow node's item) into this run, until this run has finished."""
        if not self._finished:
            self._emit(event)

    def fail(self, message: str, error_type: str = "RunFailed", *, finished_node: str | None = None) -> None:
        """Stop the run as `failed` with this error (the budget guard calls it). Called by a consumer while
        it handles a node's terminal event, it names that node in `finished_node` (it gets no second
        terminal event) and must be the last consumer (the others have seen the event already)."""
        if self._started and not self._finished:
            if finished_node is not None:
                self._terminal[self.plan.by_id[finished_node]] = True
            self._error = ErrorInfo(error_type, message)
            self._abort(message, "failed")

    # --- scheduling ------------------------------------------------------------------------------
    async def consume(self, *consumers: Callable[[Any], None]) -> None:
        """Run to the end, handing every event to each consumer as it happens.

        The push alternative to iterating: no consumer task to wake after every node, so a caller that
        only needs the result (`run`, serving) pays less per node. A consumer's exception is re-raised
        once the run has ended.
        """
        if self._started:
            raise RuntimeError("this run has already started; iterate it or consume it, not both")
        self._consumers = consumers
        self._done = asyncio.get_running_loop().create_future()
        try:
            self._start()
            if not self._finished:
                await self._done
        finally:
            await self.aclose()
        if self._consumer_error is not None:
            raise self._consumer_error

    def _emit(self, event: Any) -> None:
        consumers = self._consumers
        if consumers is None:
            self._buffer.append(event)
            self._wakeup.set()
            return
        for consume in consumers:
            try:
                consume(event)
            except Exception as exc:  # noqa: BLE001 - a broken consumer must not break scheduling
                self._consumer_error = self._consumer_error or exc

    def _sink(self, kind: str, node_id: str, payload: Any) -> None:
        redact = self._current_redactor()
        if redact is not None:
            payload = redact.value(payload)
        if kind == "chunk":
            self._emit(NodeChunk(run_id=self.run_id, node_id=node_id, ts=_now(), text=payload))
        else:
            self._emit(NodeLog(run_id=self.run_id, node_id=node_id, ts=_now(), record=payload))

    def _start(self) -> None:
        self._started = True
        self._t0 = _perf()
        plan = self.plan
        self._redact = env_redactor()
        self._announce()
        if self._cancel_requested is not None:
            return self._abort(self._cancel_requested, "cancelled")
        for node in plan.nodes:
            if node.n_in == 0 and not self._finished:
                self._launch(node, {})

    def _announce(self) -> None:
        redact, plan = self._redact, self.plan
        inputs = self.inputs if redact is None else redact.value(self.inputs)
        self._emit(RunStarted(run_id=self.run_id, ts=_now(), pipeline=plan.spec.name, inputs=inputs,
                              node_ids=[n.id for n in plan.nodes]))

    def _launch(self, node: PlanNode, kwargs: dict[str, Any]) -> None:
        self._tasks[node.index] = asyncio.create_task(self._run_node(node, kwargs))

    def _hand_over(self, task: asyncio.Task[None] | None) -> tuple[PlanNode, dict[str, Any]] | None:
        """Launch what the finished node made ready; the first is returned for `task` to run itself."""
        ready = self._ready
        if not ready:
            return None
        if self._finished:
            ready.clear()
            return None
        follow = None
        if task is not None:
            follow = ready.pop(0)
            self._tasks[follow[0].index] = task
        for node, kwargs in ready:
            self._launch(node, kwargs)
        ready.clear()
        return follow

    def _complete(self, index: int, fired: dict[str, Any] | None, dead_reason: str) -> None:
        """Deliver a finished node's fired ports along its out-edges and launch what became ready."""
        nodes, values, pending = self.plan.nodes, self._values, self._pending
        work = [(index, fired, dead_reason)]
        while work and not self._finished:
            source_index, fired, reason = work.pop()
            for edge in nodes[source_index].out:
                target = edge.target
                if fired is not None and edge.port in fired:
                    if edge.slot < 0:
                        values[target][edge.target_port] = fired[edge.port]
                    else:
                        values[target].setdefault(edge.target_port, {})[edge.slot] = fired[edge.port]
                    self._alive[target] = True
                elif self._dead_reason[target] is None:
                    self._dead_reason[target] = reason if fired is None else f"`{edge.source_label}` did not fire"
                pending[target] -= 1
                if pending[target] == 0:
                    node = nodes[target]
                    skip_reason = why_skipped(node, values[target], self._alive[target], self._dead_reason[target])
                    if skip_reason is None:
                        kwargs, error = gather(node, values[target])
                        if error is not None:
                            self._input_errors[target] = error
                        self._ready.append((node, kwargs))
                    else:
                        self._skip(node, skip_reason)
                        work.append((target, None, f"upstream `{node.id}` was skipped"))

    def _skip(self, node: PlanNode, reason: str) -> None:
        self._emit(NodeSkipped(run_id=self.run_id, node_id=node.id, ts=_now(), reason=reason))
        self._mark_terminal(node.index)

    def _mark_terminal(self, index: int) -> None:
        self._terminal[index] = True
        self._remaining -= 1
        if self._remaining == 0 and not self._finished:
            self._finish("failed" if self._error is not None else "succeeded")

    def _finish(self, status: str) -> None:
        self._finished = True
        self.status = status
        if self._deadline is not None:
            self._deadline.close()
        latency = (_perf() - self._t0) * 1000
        self._emit(RunFinished(run_id=self.run_id, ts=_now(), status=status,  # type: ignore[arg-type]
                               latency_ms=latency, outputs=self._ordered_outputs(), error=self._error))
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _ordered_outputs(self) -> dict[str, Any]:
        """Outputs in the spec's order of `io.output` nodes, never in arrival order."""
        got = self._outputs
        return {node_id: got[node_id] for node_id in self.plan.output_ids if node_id in got}

    def _abort(self, reason: str, status: str) -> None:
        ts = _now()
        for node in self.plan.nodes:
            if self._terminal[node.index]:
                continue
            task = self._tasks.get(node.index)
            if task is not None and not task.done():
                task.cancel()
            self._terminal[node.index] = True
            self._emit(NodeCancelled(run_id=self.run_id, node_id=node.id, ts=ts, reason=reason,
                                     started=task is not None))
        self._remaining = 0
        self._finish(status)

    def _succeed(self, node: PlanNode, fired: dict[str, Any]) -> None:
        if node.component_id == "io.output" and "value" in fired:
            self._outputs[node.id] = fired["value"]
        self._mark_terminal(node.index)
        if node.out:
            self._complete(node.index, fired, "")

    def _fail(self, node: PlanNode, exc: BaseException, attempts: int, latency_ms: float,
              trace: dict[str, Any]) -> None:
        error = self._error_info(exc)
        handled = node.error_edges or node.policy.on_error == "continue"
        self._emit(NodeFailed(run_id=self.run_id, node_id=node.id, ts=_now(), latency_ms=latency_ms,
                              attempts=attempts, error=error, handled=handled, trace=self._masked(trace)))
        if not handled:
            prefix = f"Node `{node.id}`"
            message = error.message if error.message.startswith(prefix) else f"{prefix} failed: {error.message}"
            self._error = ErrorInfo(error.type, message, error.traceback)
            self._terminal[node.index] = True
            return self._abort(f"node `{node.id}` failed", "failed")
        self._mark_terminal(node.index)
        fired = None
        if node.error_edges:
            fired = {"error": {"node": node.id, "component": node.component_id, "type": error.type,
                               "message": error.message, "attempts": attempts}}
        self._complete(node.index, fired, f"upstream `{node.id}` failed")

    def _error_info(self, exc: BaseException) -> ErrorInfo:
        message = str(exc) or type(exc).__name__
        tb = "".join(traceback.format_exception(exc))
        return ErrorInfo(  # the environment's secrets (libraries read keys) and those read via ctx.secret
            type=type(exc).__name__, message=redact_text(message, self._secrets),
            traceback=redact_text(tb, self._secrets))

    def _current_redactor(self) -> Redactor | None:
        """The run's redactor, rebuilt when a component read a new secret through `ctx.secret`."""
        if len(self._secrets) != self._secrets_seen:
            self._secrets_seen = len(self._secrets)
            self._redact = redactor_for(self._secrets)
        return self._redact

    def _masked(self, value: Any) -> Any:
        redact = self._current_redactor()
        return value if redact is None else redact.value(value)
