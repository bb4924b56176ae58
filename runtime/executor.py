"""The dataflow executor: one asyncio task per node, started the moment its inputs resolve.

No rounds, no levels, no rescans: finishing a node walks only its own out-edges, so the
cost per node is constant and a pipeline's latency is its critical path. Scheduling is all
this module does; persistence, the CLI and the UI consume the event stream.

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

from .attempts import NodeOutputTypeError, attempt_error, retry_delay, wrong_output
from .cache import NodeCache, cache_key, default_cache
from .context import RunContext
from .deadlines import DefaultDeadline, default_timeout_message
from .egress import CURRENT_NODE
from .events import (
    ErrorInfo,
    NodeCached,
    NodeCancelled,
    NodeChunk,
    NodeFailed,
    NodeFinished,
    NodeLog,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    RunFinished,
    RunStarted,
)
from .inputs import InputTypeError, gather, why_skipped
from .plan import Plan, PlanNode
from .secrets import Redactor, env_redactor, redact_text, redactor_for
from .settings import default_timeout_s

if TYPE_CHECKING:
    from .debug import Debugger, SubRunStops

__all__ = ["Execution", "NodeOutputTypeError", "InputTypeError"]

_perf = time.perf_counter
_now = time.time
INLINE_RUN = 32  # nodes one task runs back to back (each made ready by the one before) before it yields


class Execution:
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

    # --- one node ------------------------------------------------------------------------------
    async def _run_node(self, node: PlanNode, kwargs: dict[str, Any]) -> None:
        """A task that runs `node`, then the node it made ready (up to INLINE_RUN in a row): a chain costs
        no new task and no loop turn per node. Other nodes made ready get tasks of their own."""
        task, run = asyncio.current_task(), 0
        while True:
            egress_token = CURRENT_NODE.set((self.run_id, node.id))  # the egress audit's attribution
            try:
                if self.debugger is not None and node.index in self.debugger.stops:  # a breakpoint: wait here
                    kwargs = await self.debugger.pause(node, kwargs)
                if self._limit is not None:
                    async with self._limit:
                        await self._attempts(node, kwargs)
                else:
                    await self._attempts(node, kwargs)
            except asyncio.CancelledError:
                self._cancelled(node, task)
            except BaseException as exc:  # noqa: BLE001 - a bug in scheduling must still end the run
                if not self._finished:
                    self._fail(node, exc, 1, 0.0, {})
            finally:
                CURRENT_NODE.reset(egress_token)
            run += 1
            follow = self._hand_over(task if run < INLINE_RUN else None)
            if follow is None:
                return
            node, kwargs = follow

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

    def _cancelled(self, node: PlanNode, task: asyncio.Task[None] | None) -> None:
        if self._finished or self._terminal[node.index]:
            return  # `_abort` already reported the node as cancelled
        if task is not None and task.cancelling():  # cancelled from outside, e.g. the loop shutting down
            self._abort("the run's task was cancelled", "cancelled")
        else:  # the component's own code raised CancelledError: a failure, never a hang
            self._fail(node, RuntimeError("the component's work was cancelled from inside it"), 1, 0.0, {})

    def _begin(self, node: PlanNode, kwargs: dict[str, Any]) -> str | None:
        """Start the node: None when that already finished it (a preset, a cache hit, an input that does
        not fit), else its cache key ("" when it has none)."""
        input_error = self._input_errors.pop(node.index, None) if self._input_errors else None
        key = ""
        if (self._presets or node.cacheable) and input_error is None:
            key = self._reuse_outputs(node, kwargs)
            if key is None:
                return None
        self._emit(NodeStarted(run_id=self.run_id, node_id=node.id, ts=_now(), attempt=1, inputs=kwargs))
        if input_error is not None:
            self._fail(node, input_error, 1, 0.0, {})
            return None
        return key

    async def _attempts(self, node: PlanNode, kwargs: dict[str, Any]) -> None:
        run_id, t0 = self.run_id, _perf()
        key = self._begin(node, kwargs)
        if key is None:
            return
        inputs = node.build_inputs(kwargs)
        policy, attempt, index = node.policy, 1, node.index
        default = self._deadline if policy.timeout_s is None and not node.runs_subflows else None
        while True:
            ctx = RunContext._for_attempt(run_id, node.id, node.component_id, attempt, self.inputs, self._sink,
                                          self._secrets, self)
            timer, timed_out = None, False
            try:
                if default is not None:
                    default.watch(index, t0 if attempt == 1 else _perf())
                    try:
                        out = await node.component.run(inputs, ctx)
                    finally:
                        timed_out = default.finish(index)
                elif policy.timeout_s is None:
                    out = await node.component.run(inputs, ctx)
                else:
                    timer = asyncio.timeout(policy.timeout_s)
                    async with timer:
                        out = await node.component.run(inputs, ctx)
                error = None if isinstance(out, node.outputs_model) else wrong_output(node, out)
            except asyncio.CancelledError:
                if not timed_out or self._stopping():
                    raise
                error = TimeoutError(default_timeout_message(default.limit))  # type: ignore[union-attr]
            except Exception as exc:  # noqa: BLE001 - wrapped once, with the node id, below
                error = attempt_error(exc, node, timer, default.limit if timed_out else None)  # type: ignore[union-attr]
            if error is None:
                break
            delay = self._retry_or_fail(node, error, attempt, t0, ctx.trace)
            if delay is None:
                return
            await asyncio.sleep(delay)
            attempt += 1
        fired, trace = {name: getattr(out, name) for name in out.model_fields_set}, ctx.trace
        redact = self._redact if len(self._secrets) == self._secrets_seen else self._current_redactor()
        if redact is not None:
            fired, trace = redact.value(fired), redact.value(trace)
        self._emit(NodeFinished(run_id=run_id, node_id=node.id, ts=_now(), latency_ms=(_perf() - t0) * 1000,
                                attempts=attempt, outputs=fired, trace=trace))
        if key:
            self._cache.put(key, fired)
        self._succeed(node, fired)

    def _stopping(self) -> bool:
        """True when the run has ended or the current task is being cancelled from outside."""
        task = asyncio.current_task()
        return self._finished or (task is not None and task.cancelling() > 0)

    def _retry_or_fail(self, node: PlanNode, error: Exception, attempt: int, t0: float,
                       trace: dict[str, Any]) -> float | None:
        """After a failed attempt: announce the retry and return its delay, or fail the node (None)."""
        policy = node.policy
        if attempt > policy.retries or getattr(error, "retryable", True) is False:
            self._fail(node, error, attempt, (_perf() - t0) * 1000, trace)
            return None
        delay = retry_delay(policy.retry_backoff_s, attempt, error)
        self._emit(NodeRetrying(run_id=self.run_id, node_id=node.id, ts=_now(), attempt=attempt + 1,
                                error=self._error_info(error), delay_s=delay))
        return delay

    def _reuse_outputs(self, node: PlanNode, kwargs: dict[str, Any]) -> str | None:
        """Finish the node from a preset or the cache and return None; else its cache key ("" if none)."""
        preset = self._presets.get(node.index) if self._presets else None
        if preset is not None:
            outputs = self._masked(preset.outputs)
            self._emit(NodeCached(run_id=self.run_id, node_id=node.id, ts=_now(), outputs=outputs, cache_key="",
                                  source=preset.source))
            self._succeed(node, outputs)
            return None
        if not node.cacheable:
            return ""
        key = cache_key(node.component_id, node.version, node.params, kwargs, node.cache_salt)
        hit = self._cache.get(key)
        if hit is None:
            return key
        hit = self._masked(hit)  # stored before a secret was set in the environment
        self._emit(NodeCached(run_id=self.run_id, node_id=node.id, ts=_now(), outputs=hit, cache_key=key))
        self._succeed(node, hit)
        return None

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
