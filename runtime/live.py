"""Runs in flight inside a long-lived process (the editor's backend), watched by any number of views.

A run belongs to the process, not to a browser tab: a reloaded page or a second tab subscribes to
the same `LiveRun` by id and sees its current state, then its updates. Each run folds its events
into a compact per-node view; subscribers get coalesced snapshots at most every `interval` seconds,
so a burst of events costs one update. Persistence is one more consumer of the same event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from .events import Consumer, EventFold, NodeLog, RunStarted
from .flow.inner_status import InnerStatuses, inner_ids
from .flow.progress import LoopProgress, MapProgress
from .results import jsonable
from .text import bounded

__all__ = ["LiveRun", "LiveRuns", "NodeView", "live_runs", "preview"]

PREVIEW_CHARS = 400
INNER_VIEWS = 500


def preview(value: Any, limit: int = PREVIEW_CHARS) -> Any:
    """A JSON-ready, size-bounded copy of `value` for the browser (the full value stays in the run record)."""
    return bounded(jsonable(value), limit=limit, items=20, keys=40)[0]


@dataclass
class NodeView:
    """What a node looks like on the canvas right now."""

    status: str = "queued"
    started_at: float | None = None
    finished_at: float | None = None
    latency_ms: float | None = None
    attempts: int = 0
    fired: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    skip_reason: str | None = None
    cache_source: str | None = None
    streamed: str = ""
    edited: list[str] = field(default_factory=list)  # input ports edited at a breakpoint
    progress: list[int] | None = None  # a map node: [done, total, failed] items (`runtime.flow.progress`)
    loop: list[int] | None = None  # a loop node: [iteration, max_iterations]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "started_at": self.started_at, "finished_at": self.finished_at,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
                "attempts": self.attempts, "fired": self.fired, "error": self.error,
                "skip_reason": self.skip_reason, "cache_source": self.cache_source,
                "streamed": self.streamed[-2000:], "edited": self.edited,
                "progress": None if self.progress is None else list(self.progress),
                "loop": None if self.loop is None else list(self.loop)}


class LiveRun(EventFold):
    """One run: its execution task, the folded node views, and the views' subscribers."""

    IGNORES = (RunStarted, NodeLog)  # the views exist from the plan; logs are for the run record

    def __init__(self, execution: Any, *, pipeline_id: str | None, consumers: list[Consumer]):
        self.execution = execution
        self.run_id: str = execution.run_id
        self.pipeline_id = pipeline_id
        self.status = "running"
        self.started_at = time.time()
        self.latency_ms: float | None = None
        self.outputs: dict[str, Any] = {}
        self.error: dict[str, str] | None = None
        self.nodes = {node.id: NodeView() for node in execution.plan.nodes}
        # Nodes inside flow nodes (`map1/3/summarise`), the most recent `INNER_VIEWS` of them: enough to
        # watch the items in flight; the run record keeps them all.
        self.inner: dict[str, NodeView] = {}
        self._views = self.nodes
        self.paused: dict[str, None] = {}  # nodes held at a breakpoint, in the order they paused
        self.progress = MapProgress(execution.plan)
        self.loops = LoopProgress(execution.plan)
        self.inside = InnerStatuses(execution.plan)  # per inner node of each subflow, for a view opened on it
        self.version = 0
        self._consumers = consumers
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def debugger(self) -> Any:
        """The run's `runtime.debug.Debugger`, or None when it was started without breakpoints."""
        return self.execution.debugger

    def snapshot(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "pipeline_id": self.pipeline_id, "status": self.status,
                "paused": list(self.paused),
                "started_at": self.started_at, "latency_ms": self.latency_ms, "error": self.error,
                "outputs": preview(self.outputs), "version": self.version,
                "nodes": {node_id: view.to_dict() for node_id, view in self.nodes.items()}}

    def inner_views(self, flow: str) -> dict[str, dict[str, Any]]:
        """The live views of the nodes inside the flow node at `flow` (`map1`; nested: `outer/m`, no indices),
        by their ids in its subflow (`runtime.flow.inner_status`). While its top-level flow node runs, an
        inner node that has not started yet is `queued`, like the pipeline's own."""
        views = self.inside.views(flow, run_ended=self.done)
        top = self.nodes.get(flow.split("/", 1)[0])
        if top is not None and top.status == "running":
            views = {node_id: {"status": "queued"} for node_id in inner_ids(self.execution.plan, flow)} | views
        return views

    def cancel(self) -> None:
        self.execution.cancel("stopped from the editor")

    async def drive(self) -> None:
        try:
            async with self.execution as events:
                async for event in events:
                    self(event)
                    for consume in self._consumers:
                        consume(event)
                    self.version += 1
                    self._changed.set()
        finally:
            if self.status == "running":  # the task itself was cancelled (server shutting down)
                self.status = "cancelled"
            self.version += 1
            self._changed.set()
            self._ended.set()

    async def watch(self, interval: float = 0.04) -> AsyncIterator[dict[str, Any]]:
        """Snapshots as the run changes, at most one per `interval`; the last one is the finished run.

        The first change after a quiet spell is sent at once; during a burst, one snapshot per `interval`
        counted from the previous one (the time the watcher spent on it is part of the interval). The
        finished run is never held back.
        """
        seen, last = -1, -interval
        while True:
            if self.version == seen:
                self._changed.clear()
                if self.version == seen:
                    await self._changed.wait()
                continue
            wait = last + interval - time.monotonic()
            if wait > 0 and self.status == "running":
                with contextlib.suppress(TimeoutError):  # the run ending cuts the wait short
                    async with asyncio.timeout(wait):
                        await self._ended.wait()
            seen, last = self.version, time.monotonic()
            snapshot = self.snapshot()
            yield snapshot
            if snapshot["status"] != "running":
                return

    def inner_event(self, event: Any) -> None:
        view = self.inner.get(event.node_id)
        if view is None:
            if len(self.inner) >= INNER_VIEWS:
                self.inner.pop(next(iter(self.inner)))
            view = self.inner[event.node_id] = NodeView()
        self.progress.inner(event)
        self.loops.inner(event)
        self.inside.fold(event)
        self._views = self.inner  # the handlers below fold into this view
        try:
            self.dispatch(event)
        finally:
            self._views = self.nodes

    def on_run_finished(self, event: Any) -> None:
        self._ended.set()
        for node_id in self.paused:  # a node inside a flow node gets no event once the run has ended
            view = self.inner.get(node_id)
            if view is not None:
                view.status, view.finished_at, view.skip_reason = "cancelled", event.ts, "the run ended"
        self.paused.clear()
        self.status, self.latency_ms, self.outputs = event.status, event.latency_ms, event.outputs
        self.error = None if event.error is None else event.error.brief()

    def on_node_started(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.started_at, view.attempts = "running", event.ts, event.attempt
        if self._views is self.nodes:
            view.progress = self.progress.started(event.node_id, event.inputs)
            if event.node_id in self.inside.flow_nodes:
                view.loop = self.loops.started(event.node_id)
                self.inside.restarted(event.node_id)

    def on_node_chunk(self, event: Any) -> None:
        self._views[event.node_id].streamed += event.text

    def on_node_retrying(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.attempts, view.error = event.attempt, event.error.brief()

    def on_node_finished(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.finished_at, view.latency_ms = "succeeded", event.ts, event.latency_ms
        view.attempts, view.fired, view.error = event.attempts, sorted(event.outputs), None
        if self._views is self.nodes:
            self.progress.ended(event.node_id, event.trace)
            self.loops.ended(event.node_id, event.trace)

    def on_node_cached(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.finished_at, view.latency_ms = "cached", event.ts, 0.0
        view.fired, view.cache_source = sorted(event.outputs), event.source
        view.started_at = view.started_at or event.ts

    def on_node_skipped(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.finished_at, view.skip_reason = "skipped", event.ts, event.reason

    def on_node_failed(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.finished_at, view.latency_ms = "failed", event.ts, event.latency_ms
        view.attempts, view.error = event.attempts, event.error.brief()
        view.fired = ["error"] if event.handled else []
        if self._views is self.nodes:
            self.progress.ended(event.node_id, event.trace)
            self.loops.ended(event.node_id, event.trace)

    def on_node_cancelled(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status, view.finished_at, view.skip_reason = "cancelled", event.ts, event.reason
        self.paused.pop(event.node_id, None)

    def on_node_paused(self, event: Any) -> None:
        self._views[event.node_id].status = "paused"
        self.paused[event.node_id] = None

    def on_node_resumed(self, event: Any) -> None:
        view = self._views[event.node_id]
        view.status = "queued"  # its NodeStarted (or cached) follows at once
        view.edited = sorted({*view.edited, *event.edited})
        self.paused.pop(event.node_id, None)


class LiveRuns:
    """The process's runs in flight (and recently finished), by run id."""

    def __init__(self, keep_finished: int = 50):
        self._runs: dict[str, LiveRun] = {}
        self._keep = keep_finished

    def start(self, plan: Any, inputs: dict[str, Any], *, pipeline_id: str | None = None,
              record: bool = True, source: str = "editor", **execute_options: Any) -> LiveRun:
        """Start a run in the background; raises `InvalidInputs` before anything runs."""
        from .consumers import default_consumers
        from .executor import Execution

        execution = Execution(plan, plan.resolve_inputs(inputs), run_id=uuid.uuid4().hex, **execute_options)
        factories = default_consumers(source, record=record, pipeline_id=pipeline_id)
        from .budget import guard_for

        guard = guard_for(execution)  # None: the pipeline has no budget
        live = LiveRun(execution, pipeline_id=pipeline_id,
                       consumers=[*(make(plan, execution.run_id) for make in factories), *([guard] if guard else [])])
        live.task = asyncio.get_running_loop().create_task(live.drive(), name=f"patchwire-run-{live.run_id}")
        self._runs[live.run_id] = live
        self._forget_old()
        return live

    def get(self, run_id: str) -> LiveRun | None:
        return self._runs.get(run_id)

    def active(self, pipeline_id: str | None = None) -> list[LiveRun]:
        return [r for r in self._runs.values() if not r.done and (pipeline_id is None or r.pipeline_id == pipeline_id)]

    def _forget_old(self) -> None:
        finished = [run_id for run_id, r in self._runs.items() if r.done]
        for run_id in finished[: max(0, len(finished) - self._keep)]:
            del self._runs[run_id]


_LIVE = LiveRuns()


def live_runs() -> LiveRuns:
    """The process-wide registry of live runs."""
    return _LIVE
