"""`TraceConsumer`: one OpenTelemetry trace per run, folded from the run's events.

Root span `invoke_workflow {pipeline}`; one child span per node (from its `NodeStarted`, or its first
event, to its terminal event); inside a node, one `chat {model}` span per recorded model call. A node inside
a flow node's sub-run (a map item's, a loop iteration's) is a span under the flow node's span, named by its
own id, with its path in `patchwire.node.path` (`map1/3/summarise`). Every time is an event's or a record's. Imported only when tracing is on (`runtime.tracing.tracing_factory`).

Cheap on the event loop by design: a node start costs a span id and a dict entry; its end builds one
finished `ReadableSpan`, kept until the run ends (or the sink's hand-off size or age is reached) and then
handed to the batch processor, which exports from its own thread after the run rather than beside it. The SDK's
live spans (locks, attribute validation per `set_attribute`) cost several times more per node.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ..events import EventFold, NodeLog, NodePaused, NodeResumed
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
from .provider import TraceSink, trace_sink

__all__ = ["TraceConsumer", "TRACER_NAME"]

TRACER_NAME = "patchwire"
_PROPAGATOR = TraceContextTextMapPropagator()
_UNSET = Status(StatusCode.UNSET)
_monotonic = time.monotonic


class _PlanFacts:
    """What every run of one plan shares: its spec hash and each node's attributes (computed once; those of
    nodes inside flow nodes on first sight, by their path without item indexes)."""

    __slots__ = ("digest", "nodes", "plan", "inner")

    def __init__(self, plan: Any):
        self.digest = spec_hash(plan.spec)
        self.nodes = {n.id: node_attributes(n.id, n.component_id, n.version) for n in plan.nodes}
        self.plan = plan
        self.inner: dict[tuple[Any, ...], dict[str, Any]] = {}

    def inner_attributes(self, path: list[Any]) -> dict[str, Any]:
        """The attributes of the node at `path` (`["map1", 3, "summarise"]`), its path included."""
        ids = tuple(path[0::2])
        found = self.inner.get(ids)
        if found is None:
            found = self.inner[ids] = _inner_node_attributes(self.plan, ids)
        return {**found, "patchwire.node.path": "/".join(map(str, path))}


def _inner_node_attributes(plan: Any, ids: tuple[Any, ...]) -> dict[str, Any]:
    node = None
    for node_id in ids:  # flow node, its subflow's node, ... (each flow node holds its subflow's plan)
        index = None if plan is None else plan.by_id.get(node_id)
        if index is None:
            return {"patchwire.node.id": str(ids[-1])}
        node = plan.nodes[index]
        plan = getattr(node.component, "plan", None)
    assert node is not None
    return node_attributes(node.id, node.component_id, node.version)


class _Shared:
    """What every consumer of one sink shares: where spans go, how they are sampled and bounded."""

    __slots__ = ("sink", "scope", "limits", "capture")

    def __init__(self, sink: TraceSink):
        self.sink = sink
        self.scope = InstrumentationScope(TRACER_NAME)
        self.limits = SpanLimits()  # OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT etc., for the spans that carry content
        self.capture = capture_content()


class TraceConsumer(EventFold):
    """The spans of one run; `factory()` gives the `(plan, run_id) -> consumer` every entry point uses."""

    IGNORES = (NodeLog, NodePaused, NodeResumed)  # logs stay in the run record; a pause is not a span

    def __init__(self, shared: _Shared, facts: _PlanFacts, run_id: str, parent: dict[str, str] | None = None):
        self._shared, self._facts, self._run_id = shared, facts, run_id
        self._resource, self._on_end = shared.sink.provider.resource, shared.sink.processor.on_end
        self._ids = shared.sink.provider.id_generator
        self._pending: list[ReadableSpan] = []  # finished, not handed to the processor yet
        self._pending_since = 0.0
        self._handoff_spans, self._handoff_s = shared.sink.handoff_spans, shared.sink.handoff_s
        self._parent = _PROPAGATOR.extract(parent) if parent else None
        self._trace_id = 0
        self._sampled = False
        self._trace_state: Any = None
        self._root: SpanContext | None = None
        self._run_parent: SpanContext | None = None
        self._pipeline = ""
        self._run_start = 0.0
        # node id (a path for inner nodes) -> [span id, start ts, events, first chunk ts, node path, parent span]
        self._nodes: dict[str, list[Any]] = {}

    @classmethod
    def factory(cls, sink: TraceSink | None = None) -> Any:
        """Consumers sharing one sink (the process's OTLP exporter unless given, e.g. in tests)."""
        shared = _Shared(sink or trace_sink())
        facts: dict[int, _PlanFacts] = {}
        propagation.accept_incoming()

        def make(plan: Any, run_id: str) -> TraceConsumer:
            known = facts.get(id(plan))
            if known is None or known.nodes.keys() != {n.id for n in plan.nodes}:
                known = facts[id(plan)] = _PlanFacts(plan)
            return cls(shared, known, run_id, propagation.take_incoming(run_id))

        return make

    # --- the run ---------------------------------------------------------------------------------
    def on_run_started(self, event: Any) -> None:
        parent = trace.get_current_span(self._parent).get_span_context()  # the caller's, or the ambient span
        self._trace_id = parent.trace_id if parent.is_valid else self._ids.generate_trace_id()
        name = f"invoke_workflow {event.pipeline}"
        decision = self._shared.sink.provider.sampler.should_sample(self._parent, self._trace_id, name)
        self._sampled, self._trace_state = decision.decision.is_sampled(), decision.trace_state
        self._root = self._context(self._ids.generate_span_id())
        self._run_parent = parent if parent.is_valid else None
        self._pipeline, self._run_start = event.pipeline, event.ts
        self._publish(None, self._root.span_id)

    def on_run_finished(self, event: Any) -> None:
        for node_id in list(self._nodes):  # none should be left; never lose a span
            self._end(node_id, None, event.ts, {"patchwire.node.status": "cancelled"}, _UNSET)
        if self._root is None:
            return
        attrs = {**run_attributes(self._pipeline, self._facts.digest, self._run_id),
                 "openinference.span.kind": "CHAIN", "patchwire.run.status": event.status}
        status = _UNSET
        if event.error is not None:
            attrs["error.type"] = event.error.type
            status = Status(StatusCode.ERROR, event.error.message)
        self._emit(f"invoke_workflow {self._pipeline}", self._root, self._run_parent, attrs, self._run_start,
                   event.ts, status)
        self._hand_off()
        propagation.withdraw(self._run_id, None)

    # --- nodes -----------------------------------------------------------------------------------
    def inner_event(self, event: Any) -> None:
        """An event of a node inside a flow node (`node_id` is its path): folded like any node's."""
        self.dispatch(event)

    def on_node_started(self, event: Any) -> None:
        span_id, path = self._ids.generate_span_id(), event.node_path
        self._nodes[event.node_id] = [span_id, event.ts, None, None, path, self._flow_span(path)]
        self._publish(event.node_id, span_id)  # an inner node's under its path (`ctx.node_path`)

    def on_node_chunk(self, event: Any) -> None:
        node = self._nodes.get(event.node_id)
        if node is not None and node[3] is None:
            node[3] = event.ts

    def on_node_retrying(self, event: Any) -> None:
        node = self._nodes.get(event.node_id)
        if node is not None:
            node[2] = [*(node[2] or ()), Event("retry", {
                "patchwire.node.attempt": event.attempt, "error.type": event.error.type,
                "patchwire.retry.delay_s": event.delay_s}, ns(event.ts))]

    def on_node_finished(self, event: Any) -> None:
        attrs = {"patchwire.node.status": "succeeded", "patchwire.node.attempts": event.attempts,
                 "patchwire.cache.hit": False}
        self._end(event.node_id, event.node_path, event.ts, attrs, _UNSET, event.trace)

    def on_node_failed(self, event: Any) -> None:
        attrs = {"patchwire.node.status": "failed", "patchwire.node.attempts": event.attempts,
                 "error.type": event.error.type, "patchwire.node.error_handled": event.handled}
        self._end(event.node_id, event.node_path, event.ts, attrs, Status(StatusCode.ERROR, event.error.message), event.trace)

    def on_node_cached(self, event: Any) -> None:
        attrs = {"patchwire.node.status": "cached", "patchwire.cache.hit": True, "patchwire.cache.source": event.source}
        self._end(event.node_id, event.node_path, event.ts, attrs, _UNSET)

    def on_node_skipped(self, event: Any) -> None:
        self._end(event.node_id, event.node_path, event.ts, {"patchwire.node.status": "skipped",
                                             "patchwire.node.skip_reason": event.reason}, _UNSET)

    def on_node_cancelled(self, event: Any) -> None:
        self._end(event.node_id, event.node_path, event.ts, {"patchwire.node.status": "cancelled",
                                             "patchwire.node.cancel_reason": event.reason}, _UNSET)

    # --- helpers ---------------------------------------------------------------------------------
    def _context(self, span_id: int) -> SpanContext:
        flags = TraceFlags(TraceFlags.SAMPLED if self._sampled else TraceFlags.DEFAULT)
        return SpanContext(self._trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=self._trace_state)

    def _publish(self, node_id: str | None, span_id: int) -> None:
        propagation.publish(self._run_id, node_id,
                            propagation.format_traceparent(self._trace_id, span_id, self._sampled))

    def _flow_span(self, path: list[Any] | None) -> SpanContext | None:
        """The span of the flow node whose sub-run `path` is in (`map1/3/summarise` -> `map1`'s); None for
        a top-level node (its parent is the root)."""
        node = None if path is None else self._nodes.get("/".join(map(str, path[:-2])))
        return None if node is None else self._context(node[0])

    def _end(self, node_id: str, path: list[Any] | None, ts: float, attrs: dict[str, Any], status: Status,
             record: dict[str, Any] | None = None) -> None:
        """The node's span, from its start (or this instant, for a node that never started) to `ts`."""
        node = self._nodes.pop(node_id, None)
        if node is None:
            node = [self._ids.generate_span_id(), ts, None, None, path, self._flow_span(path)]
        path = node[4]
        propagation.withdraw(self._run_id, node_id)
        if not self._sampled or self._root is None:
            return
        context = self._context(node[0])
        if path is None:
            name, facts = node_id, self._facts.nodes.get(node_id) or {"patchwire.node.id": node_id}
        else:  # inside a flow node: named by its own id, its path an attribute
            name, facts = str(path[-1]), self._facts.inner_attributes(path)
        attributes = {**facts, **attrs}
        if record:
            operation, extra = node_operation(name, record, self._shared.capture)
            if operation is not None:
                name = operation
                attributes.update(extra)
            calls = record.get("model_calls")
            if isinstance(calls, list) and calls:
                self._model_calls(context, calls, node[1], node[3])
        self._emit(name, context, node[5] or self._root, attributes, node[1], ts, status, node[2] or ())

    def _model_calls(self, parent: SpanContext, calls: list[Any], node_start: float, first_chunk: float | None) -> None:
        limits = self._shared.limits
        for entry in calls:
            if not isinstance(entry, dict):
                continue
            call = model_call_span(entry, node_start, self._shared.capture)
            if first_chunk is not None and "gen_ai.response.time_to_first_chunk" not in call.attributes \
                    and call.start <= first_chunk <= call.end:  # a component that records no chunk time
                call.attributes["gen_ai.response.time_to_first_chunk"] = round(first_chunk - call.start, 6)
            attributes = BoundedAttributes(limits.max_span_attributes, call.attributes, immutable=True,
                                           max_value_len=limits.max_attribute_length)  # content can be long
            status = _UNSET if call.error is None else Status(StatusCode.ERROR, call.error)
            self._emit(call.name, self._context(self._ids.generate_span_id()), parent, attributes, call.start,
                       call.end, status, kind=SpanKind.CLIENT)

    def _emit(self, name: str, context: SpanContext, parent: SpanContext | None, attributes: Any, start: float,
              end: float, status: Status, events: Any = (), kind: SpanKind = SpanKind.INTERNAL) -> None:
        if not self._sampled:
            return
        pending = self._pending
        pending.append(ReadableSpan(name, context, parent, self._resource, attributes, events, kind=kind,
                                    status=status, start_time=ns(start), end_time=ns(end),
                                    instrumentation_scope=self._shared.scope))
        if len(pending) == 1:
            self._pending_since = _monotonic()
        if len(pending) >= self._handoff_spans or _monotonic() - self._pending_since >= self._handoff_s:
            self._hand_off()

    def _hand_off(self) -> None:
        on_end = self._on_end
        for span in self._pending:
            on_end(span)
        self._pending.clear()
