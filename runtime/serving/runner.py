"""Driving one served run: its event stream fanned out to the consumers, under the request time limit.

Shared by the HTTP routes (app.py), the OpenAI-compatible routes (openai_api.py) and MCP (mcp_server.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ..consumers import ConsumerFactory
from ..events import event_to_dict
from ..plan import Plan
from ..results import ResultCollector, RunResult
from .records import receipt, unrecorded

__all__ = ["ApiError", "Pipeline", "Runner"]

log = logging.getLogger("patchwire.serve")
_END = object()


class ApiError(Exception):
    """An HTTP error answered as `{"detail": message, ...extra}`."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


@dataclass(slots=True)
class Pipeline:
    name: str
    plan: Plan
    summary: dict[str, Any]
    detail: dict[str, Any]
    published: dict[str, Any] | None = None  # `{"pipeline_id", "version"}` for `<name>@published` (served.py)


class Runner:
    """Drives one execution: one event stream fanned out to several consumers, under a time limit."""

    def __init__(self, timeout_s: float, factories: tuple[ConsumerFactory, ...], max_body_bytes: int):
        self.timeout_s = timeout_s
        self.factories = factories
        self.max_body_bytes = max_body_bytes

    def _consumers(self, pipeline: Pipeline, execution: Any,
                   first: Callable[[Any], None]) -> tuple[list[Callable], list[Awaitable[None]]]:
        """The run's consumers (the budget guard when the pipeline has a budget), and the receipts of those
        that keep records (records.py)."""
        from ..budget import guard_for

        run_id, guard = execution.run_id, guard_for(execution)
        consumers, receipts = [first], []
        for factory in self.factories:
            try:
                consumer = factory(pipeline.plan, run_id)
                if (promise := receipt(consumer, run_id)) is not None:
                    receipts.append(promise)
                consumers.append(_guarded(consumer))
            except Exception:
                log.exception("event consumer factory %r failed; run %s is not recorded by it", factory, run_id)
        if guard is not None:
            consumers.append(guard)  # last: it may stop the run while an event is handed out
        return consumers, receipts

    async def pump(self, execution: Any, consumers: list[Callable[[Any], None]],
                   gone: asyncio.Future | None = None) -> bool:
        """Feed every event to every consumer; cancel the run on timeout or when `gone` (the client left)
        completes. Returns True when it timed out."""
        running = asyncio.ensure_future(execution.consume(*consumers))
        try:
            done, _ = await asyncio.wait([running, *([gone] if gone else [])], timeout=self.timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the request itself went away
            execution.cancel("the request was cancelled")
            await asyncio.wait([running], timeout=5)
            raise
        if running in done:
            running.result()
            return False
        execution.cancel("the client disconnected" if done else
                         f"the request took longer than its {self.timeout_s:g} s limit")
        await running
        return not done

    async def collect(self, pipeline: Pipeline, execution: Any,
                      request: Request) -> tuple[RunResult, bool, str | None]:
        """Run to the end (or the time limit, or the client leaving): the result, whether it timed out, and
        why its run record was not stored (None when it was, or nothing records)."""
        collector = ResultCollector()
        consumers, receipts = self._consumers(pipeline, execution, collector)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            timed_out = await self.pump(execution, consumers, gone)
        finally:
            gone.cancel()
        assert collector.result is not None
        return collector.result, timed_out, None if timed_out else await unrecorded(receipts)

    async def respond(self, pipeline: Pipeline, execution: Any, request: Request) -> Response:
        result, timed_out, problem = await self.collect(pipeline, execution, request)
        if timed_out:
            raise ApiError(504, f"Pipeline `{pipeline.name}` took longer than the {self.timeout_s:g} s request "
                                "limit; the run was cancelled. Raise --request-timeout, or run long jobs with "
                                "`patchwire batch`.", run_id=result.run_id)
        if problem:
            raise ApiError(503, f"Pipeline `{pipeline.name}` ran (status {result.status}), but its run record was "
                                f"not stored: {problem}. The result is in `result`; check the database "
                                "(GET /healthz).", run_id=result.run_id, result=result.to_json())
        body = json.dumps(result.to_json(), ensure_ascii=False).encode()
        return Response(body, status_code=200 if result.status == "succeeded" else 500,
                        media_type="application/json")

    async def events(self, pipeline: Pipeline, execution: Any,
                     on_unrecorded: Callable[[str], None] | None = None) -> AsyncIterator[Any]:
        """Every run event as it happens; a consumer that stops early (the client left) cancels the run.
        `on_unrecorded(problem)` hears, after the last event, that the run record was not stored."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        consumers, receipts = self._consumers(pipeline, execution, queue.put_nowait)
        task = asyncio.create_task(self.pump(execution, consumers))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while (event := await queue.get()) is not _END:
                yield event
            if on_unrecorded is not None and (problem := await unrecorded(receipts)):
                on_unrecorded(problem)
        finally:  # the client went away, or the stream ended
            if not task.done():
                execution.cancel("the client disconnected")
                await asyncio.wait([task], timeout=5)

    async def stream(self, pipeline: Pipeline, execution: Any) -> AsyncIterator[str]:
        """Server-sent events: `event: <kind>` and `data: <event as JSON>` per run event, in order."""
        problems: list[str] = []
        async for event in self.events(pipeline, execution, problems.append):
            data = json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
            yield f"event: {event.kind}\ndata: {data}\n\n"
        for problem in problems:  # the status line went out long ago: the last event says it
            data = json.dumps({"run_id": execution.run_id, "detail": f"The run record was not stored: {problem}"})
            yield f"event: record_error\ndata: {data}\n\n"


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone away (the body is read by now, so only `http.disconnect` is left)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _guarded(consume: Callable[[Any], None]) -> Callable[[Any], None]:
    failed = False

    def guarded(event: Any) -> None:
        nonlocal failed
        if failed:
            return
        try:
            consume(event)
        except Exception:
            failed = True
            log.exception("event consumer %r failed; it gets no further events of this run", consume)

    return guarded
