"""`RunRecorder`: persists runs from their event stream, off the event loop.

One consumer of the stream among several (CLI, UI, serving). Events are queued in O(1) on the
loop; a single writer thread applies them in batches, one transaction per batch, so recording
never adds latency to a run.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import queue
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import egress
from ..events import TERMINAL_NODE_EVENTS, EventFold, NodeChunk, RunFinished, RunStarted
from ..results import jsonable
from ..secrets import env_redactor
from ..settings import database_url
from ..usage import usage_total
from .db import ensure_prepared, get_engine
from .health import first_line
from .tables import NodeRecord, RunRecord, utcnow

__all__ = ["RunRecorder", "RecordNotStored", "owner_id"]

HEARTBEAT_S = 5.0
MAX_QUEUED = 20_000  # events waiting for the writer; beyond that `put` waits (backpressure, never unbounded memory)
MAX_BATCH = 2_000  # events per transaction
PRUNE_EVERY_S = 60.0  # background retention pruning (PATCHWIRE_RUN_RETENTION), at most this often


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Meta:
    pipeline_id: str | None
    spec: Any
    source: str
    url: str | None


class RunRecorder:
    """Feed it every event of one or more runs: `recorder(event)`; `flush()` waits until they are stored."""

    def __init__(self, *, pipeline_id: str | None = None, spec: Any = None, source: str = "api",
                 url: str | None = None):
        self._meta = _Meta(pipeline_id, spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec,
                           source, url)

    @classmethod
    def factory(cls, source: str, *, pipeline_id: str | None = None) -> Any:
        """`(plan, run_id) -> recorder` for entry points running the same plans many times (the spec is
        dumped once per plan, not once per run)."""
        recorders: dict[int, RunRecorder] = {}

        def make(plan: Any, run_id: str) -> RunRecorder:
            recorder = recorders.get(id(plan))
            if recorder is None:
                recorder = recorders[id(plan)] = cls(pipeline_id=pipeline_id, spec=plan.spec, source=source)
            return recorder

        return make

    def __call__(self, event: Any) -> None:
        log = None
        if event.__class__ is RunStarted:
            log = egress.begin(event.run_id)  # the run's outbound calls, stored when it finishes
        elif event.__class__ is RunFinished:
            egress.end(event.run_id)
        _writer().put((self._meta, event, log))

    @staticmethod
    def flush(timeout: float = 10.0) -> None:
        """Wait until every event queued so far (by any recorder of this process) is stored."""
        _writer().flush(timeout)

    @staticmethod
    def stored(run_id: str) -> asyncio.Future[None]:
        """Call on the event loop before the run starts; the future resolves once every record of the run,
        its end included, is committed, and raises `RecordNotStored` (naming the database problem) when
        any of them could not be stored."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(_retrieved)  # nobody awaiting it (a cancelled request) is not an error
        _writer().watchers[run_id] = (loop, future)
        return future


class RecordNotStored(RuntimeError):
    """Some records of a run could not be stored in the database (the message says why)."""


@dataclass
class _Active(EventFold):
    """One run in flight: its rows, updated from its events in the writer thread."""

    IGNORES = (RunStarted, NodeChunk)  # the rows are made from RunStarted (`_Writer._start`); chunks add up
    # to the node's outputs, stored when it finishes

    run: RunRecord
    url: str
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    egress: egress.EgressLog | None = None
    beat: float = 0.0
    # Nodes inside flow nodes (`node_id` like `map1/3/summarise`): a row each, made on their first event and
    # let go once stored after their last, so a 10,000-item map does not grow the recorder.
    inner: dict[str, NodeRecord] = field(default_factory=dict)
    added: list[NodeRecord] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)

    def inner_event(self, event: Any) -> None:
        if event.node_id not in self.inner:
            record = self.inner[event.node_id] = NodeRecord(run_id=self.run.id, node_id=event.node_id)
            self.added.append(record)
        self.dispatch(event)
        if isinstance(event, TERMINAL_NODE_EVENTS):
            self.settled.append(event.node_id)

    def _node(self, event: Any) -> NodeRecord:
        node = self.nodes.get(event.node_id)
        return node if node is not None else self.inner[event.node_id]

    def release_settled(self) -> None:
        for node_id in self.settled:
            self.inner.pop(node_id, None)
        self.settled.clear()

    def on_node_started(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.started_at, node.attempts = "running", _ts(event.ts), event.attempt
        node.inputs = jsonable(event.inputs)

    def on_node_retrying(self, event: Any) -> None:
        node = self._node(event)
        node.attempts = event.attempt
        retry = {"attempt": event.attempt, "delay_s": event.delay_s, "error": jsonable(event.error)}
        node.retries = [*(node.retries or []), retry]

    def on_node_log(self, event: Any) -> None:
        node = self._node(event)
        node.logs = [*(node.logs or []), {"ts": event.ts, **jsonable(event.record)}]

    def on_node_finished(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.finished_at, node.latency_ms = "succeeded", _ts(event.ts), event.latency_ms
        node.attempts, node.outputs, node.trace = event.attempts, jsonable(event.outputs), jsonable(event.trace)

    def on_node_cached(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.finished_at, node.cache_hit = "cached", _ts(event.ts), True
        node.outputs, node.latency_ms = jsonable(event.outputs), 0.0
        node.trace = {"cache_source": event.source}  # cache | reused ("run from here") | pinned

    def on_node_skipped(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.finished_at, node.skip_reason = "skipped", _ts(event.ts), event.reason

    def on_node_failed(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.finished_at, node.latency_ms = "failed", _ts(event.ts), event.latency_ms
        node.attempts, node.trace = event.attempts, jsonable(event.trace)
        node.error = {**jsonable(event.error), "handled": event.handled}

    def on_node_cancelled(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.finished_at, node.skip_reason = "cancelled", _ts(event.ts), event.reason

    def on_node_paused(self, event: Any) -> None:
        node = self._node(event)
        node.status, node.inputs = "paused", jsonable(event.inputs)

    def on_node_resumed(self, event: Any) -> None:
        node = self._node(event)
        node.status = "queued"  # its NodeStarted follows, with the inputs it ran with
        if not event.edited:
            return
        edits = {port: {"before": event.original.get(port), "after": value} for port, value in event.edited.items()}
        node.edited_inputs = {**(node.edited_inputs or {}), **jsonable(edits)}
        if event.node_id not in (self.run.breakpoint_edits or []):
            self.run.breakpoint_edits = [*(self.run.breakpoint_edits or []), event.node_id]

    def on_run_finished(self, event: Any) -> None:
        run = self.run
        run.status, run.latency_ms, run.finished_at = event.status, event.latency_ms, _ts(event.ts)
        run.outputs = jsonable(event.outputs)
        run.error = jsonable(event.error) if event.error else None
        run.node_latency_sum_ms = sum(n.latency_ms or 0.0 for n in self.nodes.values())
        usage = usage_total(n.outputs for n in self.nodes.values())
        run.total_tokens, run.cost_usd = usage.total_tokens, usage.cost_usd
        run.egress = list(self.egress.entries) if self.egress is not None else []


class _Writer(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="patchwire-run-recorder", daemon=True)
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=MAX_QUEUED)
        self.active: dict[str, _Active] = {}
        self.pruned_at: dict[str, float] = {}
        self.urls: set[str] = set()  # databases recorded into  # url -> monotonic time of its last retention pass
        self.sessions: dict[str, Any] = {}
        self.failed: dict[str, str] = {}  # run id -> why some of its records were lost
        self.watchers: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = {}

    def put(self, item: Any) -> None:
        self.queue.put(item)

    def flush(self, timeout: float) -> None:
        done = threading.Event()
        self.queue.put(done)
        done.wait(timeout)

    def run(self) -> None:
        while True:
            try:
                batch = [self.queue.get(timeout=HEARTBEAT_S)]
            except queue.Empty:
                batch = []
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._apply(batch)
            batch.clear()  # nothing of the last batch stays alive while the thread waits
            self._prune()

    def _apply(self, batch: list[Any]) -> None:
        waiters = [item for item in batch if isinstance(item, threading.Event)]
        finished = []
        for item in batch:
            if isinstance(item, threading.Event):
                continue
            meta, event, log = item
            try:
                self._event(meta, event, log)
            except Exception as exc:  # noqa: BLE001 - recording must never break a run
                self._fail([event.run_id], f"could not record {event.kind}: {first_line(exc)}")
            if event.__class__ is RunFinished:
                finished.append(event.run_id)
        self._heartbeat()
        for url in list(self.sessions):
            self._commit(url)
        for active in self.active.values():
            active.release_settled()
        for run_id in [r for r, a in self.active.items() if a.run.status != "running"]:
            del self.active[run_id]
        in_use = {a.url for a in self.active.values()}
        for url in [u for u in self.sessions if u not in in_use]:
            self.sessions.pop(url).close()
        for run_id in finished:
            self._settle(run_id)
        for waiter in waiters:
            waiter.set()

    def _session(self, url: str) -> Any:
        from sqlmodel import Session

        if url not in self.sessions:
            ensure_prepared(url)  # raises DatabaseUnavailable, saying why, when the database cannot be used
            self.sessions[url] = Session(get_engine(url), expire_on_commit=False)
        return self.sessions[url]

    def _commit(self, url: str) -> None:
        """Commit what the batch did on `url`; if that fails, every run in flight there lost records."""
        session = self.sessions[url]
        try:
            session.commit()
        except Exception as exc:  # noqa: BLE001
            self.sessions.pop(url).close()
            self._fail([r for r, a in self.active.items() if a.url == url],
                       f"could not store run records: {first_line(exc)}")

    def _fail(self, run_ids: list[str], reason: str) -> None:
        """These runs' records are incomplete: stop recording them, and say so to whoever waits on them."""
        for run_id in run_ids:
            print(f"warning: run {run_id} is not fully recorded: {reason}", file=sys.stderr)
            self.failed.setdefault(run_id, reason)
            self.active.pop(run_id, None)

    def _settle(self, run_id: str) -> None:
        reason = self.failed.pop(run_id, None)
        watcher = self.watchers.pop(run_id, None)
        if watcher is not None:
            loop, future = watcher
            error = None if reason is None else RecordNotStored(f"Run {run_id} was not recorded: {reason}")
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve, future, error)

    def _event(self, meta: _Meta, event: Any, log: egress.EgressLog | None) -> None:
        if event.__class__ is RunStarted:
            self._start(meta, event, log)
            return
        active = self.active.get(event.run_id)
        if active is not None:
            active(event)
            if active.added:
                self._session(active.url).add_all(active.added)
                active.added.clear()
        elif event.__class__ is RunFinished and event.run_id not in self.failed:
            self.failed[event.run_id] = "its start was never recorded"

    def _start(self, meta: _Meta, event: RunStarted, log: egress.EgressLog | None) -> None:
        redact = env_redactor()  # the events are masked by the executor; the spec pasted by a user is not
        spec = meta.spec if redact is None else redact.value(meta.spec)
        run = RunRecord(id=event.run_id, pipeline_id=meta.pipeline_id, pipeline_name=event.pipeline,
                        spec=spec, source=meta.source, inputs=jsonable(event.inputs), owner=owner_id(),
                        started_at=_ts(event.ts), heartbeat_at=utcnow())
        url = meta.url or database_url()
        self.urls.add(url)
        active = _Active(run, url, {nid: NodeRecord(run_id=event.run_id, node_id=nid) for nid in event.node_ids},
                         log)
        self.active[event.run_id] = active
        session = self._session(url)
        session.add(run)
        session.flush()  # the run row first: node rows reference it
        session.add_all(active.nodes.values())

    def _prune(self) -> None:
        """Apply `PATCHWIRE_RUN_RETENTION` to the databases this process records into, now and then."""
        import time

        from .retention import RetentionError, prune_runs, retention_from_env

        now = time.monotonic()
        due = [url for url in self.urls if now - self.pruned_at.get(url, -PRUNE_EVERY_S) >= PRUNE_EVERY_S]
        if not due:
            return
        try:
            retention = retention_from_env()
        except RetentionError as exc:
            print(f"warning: runs are not pruned: {exc}", file=sys.stderr)
            retention = None
        for url in due:
            self.pruned_at[url] = now
            if retention is None or retention.keeps_everything:
                continue
            try:
                prune_runs(retention, url)
            except Exception as exc:  # noqa: BLE001 - pruning must never stop recording
                print(f"warning: could not prune old runs: {first_line(exc)}", file=sys.stderr)

    def _heartbeat(self) -> None:
        import time

        now = time.monotonic()
        for active in self.active.values():
            if now - active.beat >= HEARTBEAT_S:
                active.run.heartbeat_at = utcnow()
                active.beat = now


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _resolve(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _ts(epoch: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(epoch, UTC)


_WRITER: _Writer | None = None
_WRITER_LOCK = threading.Lock()


def _writer() -> _Writer:
    global _WRITER
    with _WRITER_LOCK:
        if _WRITER is None or not _WRITER.is_alive():
            _WRITER = _Writer()
            _WRITER.start()
            atexit.register(_WRITER.flush, 5.0)  # a clean shutdown stores what was queued
    return _WRITER
