"""Running one node, as `Execution`'s methods: its task and its attempts.

The task holds the node at a debugger breakpoint (`runtime.debug`; without a debugger that costs one
`is None` test), takes the concurrency limit, attributes egress to the node and then runs the node it
made ready itself (a chain costs no new task). The attempts finish the node from a preset or the cache,
else call the component under its time limit (`policy.timeout_s`, or the run's default deadline),
retry with backoff and report `NodeFinished`, or hand the error to the scheduler's `_fail`.

`NodeRuns` is a mixin, so the hot path keeps the calls it had inside one class: no wrapper per node.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from .attempts import attempt_error, retry_delay, wrong_output
from .cache import cache_key
from .context import RunContext
from .deadlines import default_timeout_message
from .egress import CURRENT_NODE
from .events import NodeCached, NodeFinished, NodeRetrying, NodeStarted
from .plan import PlanNode

if TYPE_CHECKING:
    from .cache import NodeCache
    from .deadlines import DefaultDeadline
    from .debug import Debugger
    from .events import ErrorInfo
    from .inputs import InputTypeError
    from .plan import Preset
    from .secrets import Redactor

__all__ = ["NodeRuns", "INLINE_RUN"]

_perf = time.perf_counter
_now = time.time
INLINE_RUN = 32  # nodes one task runs back to back (each made ready by the one before) before it yields


class NodeRuns:
    """One node's task and attempts; mixed into `runtime.executor.Execution`, which owns the state."""

    if TYPE_CHECKING:  # what `Execution` provides
        run_id: str
        inputs: dict[str, Any]
        debugger: Debugger | None
        _limit: asyncio.Semaphore | None
        _presets: dict[int, Preset]
        _input_errors: dict[int, InputTypeError]
        _cache: NodeCache
        _deadline: DefaultDeadline | None
        _secrets: set[str]
        _redact: Redactor | None
        _secrets_seen: int
        _terminal: list[bool]
        _finished: bool

        def _emit(self, event: Any) -> None: ...
        def _sink(self, kind: str, node_id: str, payload: Any) -> None: ...
        def _abort(self, reason: str, status: str) -> None: ...
        def _hand_over(self, task: asyncio.Task[None] | None) -> tuple[PlanNode, dict[str, Any]] | None: ...
        def _succeed(self, node: PlanNode, fired: dict[str, Any]) -> None: ...
        def _fail(self, node: PlanNode, exc: BaseException, attempts: int, latency_ms: float,
                  trace: dict[str, Any]) -> None: ...
        def _error_info(self, exc: BaseException) -> ErrorInfo: ...
        def _current_redactor(self) -> Redactor | None: ...
        def _masked(self, value: Any) -> Any: ...

    # --- the node's task -------------------------------------------------------------------------
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

    def _cancelled(self, node: PlanNode, task: asyncio.Task[None] | None) -> None:
        if self._finished or self._terminal[node.index]:
            return  # `_abort` already reported the node as cancelled
        if task is not None and task.cancelling():  # cancelled from outside, e.g. the loop shutting down
            self._abort("the run's task was cancelled", "cancelled")
        else:  # the component's own code raised CancelledError: a failure, never a hang
            self._fail(node, RuntimeError("the component's work was cancelled from inside it"), 1, 0.0, {})

    # --- its attempts ----------------------------------------------------------------------------
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
