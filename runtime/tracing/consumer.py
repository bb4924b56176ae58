"""`TraceConsumer`: one OpenTelemetry trace per run, folded from the run's events.

Root span `invoke_workflow {pipeline}`; one child span per node (started at its `NodeStarted`, ended at
its terminal event; cached, skipped and never-started nodes get a span at their event's time); inside a
node, one `chat {model}` span per recorded model call. Every time is an event's or a record's. Imported
only when tracing is on (`runtime.tracing.tracing_factory`).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ..events import EventFold, NodeLog
from . import propagation
from .attributes import (
    capture_content,
    model_call_span,
    node_attributes,
    node_operation,
    ns,
    run_attributes,
    spec_hash,
)
from .provider import tracer_provider

__all__ = ["TraceConsumer", "TRACER_NAME"]

TRACER_NAME = "patchwire"
_PROPAGATOR = TraceContextTextMapPropagator()


class _PlanFacts:
    """What every run of one plan shares: its spec hash and each node's attributes (computed once)."""

    __slots__ = ("digest", "nodes")

    def __init__(self, plan: Any):
        self.digest = spec_hash(plan.spec)
        self.nodes = {n.id: node_attributes(n.id, n.component_id, n.version) for n in plan.nodes}


class TraceConsumer(EventFold):
    """The spans of one run; `factory()` gives the `(plan, run_id) -> consumer` every entry point uses."""

    IGNORES = (NodeLog,)  # logs stay in the run record

    def __init__(self, tracer: Any, facts: _PlanFacts, run_id: str, *, capture: bool,
                 parent: dict[str, str] | None = None):
        self._tracer, self._facts, self._run_id, self._capture = tracer, facts, run_id, capture
        self._parent = _PROPAGATOR.extract(parent) if parent else None
        self._root: Any = None
        self._root_context: Any = None
        self._spans: dict[str, Any] = {}  # node id -> its open span
        self._started: dict[str, float] = {}  # node id -> NodeStarted ts
        self._first_chunk: dict[str, float] = {}

    @classmethod
    def factory(cls, provider: Any = None) -> Any:
        """Consumers sharing one tracer (`provider`: the process's OTLP one unless given, e.g. in tests)."""
        tracer = (provider or tracer_provider()).get_tracer(TRACER_NAME)
        capture = capture_content()
        facts: dict[int, _PlanFacts] = {}
        propagation.accept_incoming()

        def make(plan: Any, run_id: str) -> TraceConsumer:
            known = facts.get(id(plan))
            if known is None or known.nodes.keys() != {n.id for n in plan.nodes}:
                known = facts[id(plan)] = _PlanFacts(plan)
            return cls(tracer, known, run_id, capture=capture, parent=propagation.take_incoming(run_id))

        return make

    # --- the run ---------------------------------------------------------------------------------
    def on_run_started(self, event: Any) -> None:
        self._root = self._tracer.start_span(
            f"invoke_workflow {event.pipeline}", context=self._parent, kind=SpanKind.INTERNAL,
            attributes={**run_attributes(event.pipeline, self._facts.digest, event.run_id),
                        "openinference.span.kind": "CHAIN"},
            start_time=ns(event.ts))
        self._root_context = trace.set_span_in_context(self._root)
        self._publish(None, self._root)

    def on_run_finished(self, event: Any) -> None:
        for node_id in list(self._spans):  # none should be left; never leave a span open
            self._end(node_id, event.ts, "cancelled")
        root = self._root
        if root is None:
            return
        root.set_attribute("patchwire.run.status", event.status)
        if event.error is not None:
            root.set_attribute("error.type", event.error.type)
            root.set_status(Status(StatusCode.ERROR, event.error.message))
        root.end(end_time=ns(event.ts))
        propagation.withdraw(self._run_id, None)

    # --- nodes -----------------------------------------------------------------------------------
    def on_node_started(self, event: Any) -> None:
        span = self._open(event.node_id, event.ts)
        self._started[event.node_id] = event.ts
        self._publish(event.node_id, span)

    def on_node_chunk(self, event: Any) -> None:
        if event.node_id not in self._first_chunk:
            self._first_chunk[event.node_id] = event.ts

    def on_node_retrying(self, event: Any) -> None:
        span = self._spans.get(event.node_id)
        if span is not None:
            span.add_event("retry", {"patchwire.node.attempt": event.attempt, "error.type": event.error.type,
                                     "patchwire.retry.delay_s": event.delay_s}, timestamp=ns(event.ts))

    def on_node_finished(self, event: Any) -> None:
        span = self._spans.get(event.node_id)
        if span is not None:
            self._describe(event.node_id, span, event.trace, event.ts)
            span.set_attribute("patchwire.node.attempts", event.attempts)
        self._end(event.node_id, event.ts, "succeeded", cache_hit=False)

    def on_node_failed(self, event: Any) -> None:
        span = self._spans.get(event.node_id) or self._open(event.node_id, event.ts)
        self._describe(event.node_id, span, event.trace, event.ts)
        span.set_attributes({"patchwire.node.attempts": event.attempts, "error.type": event.error.type,
                             "patchwire.node.error_handled": event.handled})
        span.set_status(Status(StatusCode.ERROR, event.error.message))
        self._end(event.node_id, event.ts, "failed")

    def on_node_cached(self, event: Any) -> None:
        span = self._open(event.node_id, event.ts)
        span.set_attribute("patchwire.cache.source", event.source)
        self._end(event.node_id, event.ts, "cached", cache_hit=True)

    def on_node_skipped(self, event: Any) -> None:
        span = self._open(event.node_id, event.ts)
        span.set_attribute("patchwire.node.skip_reason", event.reason)
        self._end(event.node_id, event.ts, "skipped")

    def on_node_cancelled(self, event: Any) -> None:
        span = self._spans.get(event.node_id) or self._open(event.node_id, event.ts)
        span.set_attribute("patchwire.node.cancel_reason", event.reason)
        self._end(event.node_id, event.ts, "cancelled")

    # --- helpers ---------------------------------------------------------------------------------
    def _open(self, node_id: str, ts: float) -> Any:
        attributes = self._facts.nodes.get(node_id) or {"patchwire.node.id": node_id}
        span = self._tracer.start_span(node_id, context=self._root_context, attributes=attributes,
                                       start_time=ns(ts))
        self._spans[node_id] = span
        return span

    def _end(self, node_id: str, ts: float, status: str, *, cache_hit: bool | None = None) -> None:
        span = self._spans.pop(node_id, None)
        if span is None:
            return
        span.set_attribute("patchwire.node.status", status)
        if cache_hit is not None:
            span.set_attribute("patchwire.cache.hit", cache_hit)
        span.end(end_time=ns(ts))
        if self._started.pop(node_id, None) is not None:
            propagation.withdraw(self._run_id, node_id)
        self._first_chunk.pop(node_id, None)

    def _publish(self, node_id: str | None, span: Any) -> None:
        context = span.get_span_context()
        propagation.publish(self._run_id, node_id, propagation.format_traceparent(
            context.trace_id, context.span_id, context.trace_flags.sampled))

    def _describe(self, node_id: str, span: Any, record: dict[str, Any], ts: float) -> None:
        """The node's GenAI operation (retrieval, tool) and its model calls as child spans."""
        if not record:
            return
        name, attributes = node_operation(node_id, record, self._capture)
        if name is not None:
            span.update_name(name)
            span.set_attributes(attributes)
        calls = record.get("model_calls")
        if isinstance(calls, list) and calls:
            self._model_calls(node_id, span, calls, ts)

    def _model_calls(self, node_id: str, node_span: Any, calls: list[Any], ts: float) -> None:
        context = trace.set_span_in_context(node_span)
        node_start = self._started.get(node_id, ts)
        first_chunk = self._first_chunk.get(node_id)
        for entry in calls:
            if not isinstance(entry, dict):
                continue
            call = model_call_span(entry, node_start, self._capture)
            if first_chunk is not None and "gen_ai.response.time_to_first_chunk" not in call.attributes \
                    and call.start <= first_chunk <= call.end:  # a component that records no chunk time
                call.attributes["gen_ai.response.time_to_first_chunk"] = round(first_chunk - call.start, 6)
            span = self._tracer.start_span(call.name, context=context, kind=SpanKind.CLIENT,
                                           attributes=call.attributes, start_time=ns(call.start))
            if call.error is not None:
                span.set_status(Status(StatusCode.ERROR, call.error))
            span.end(end_time=ns(call.end))
