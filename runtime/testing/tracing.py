"""Traces of runs kept in memory, for tests: the SDK's in-memory exporter behind a `TraceConsumer`.

    traces = InMemoryTraces()
    result = await traces.run(spec, {"q": "hi"}, registry=registry)
    root = traces.root(); children = traces.children(root)

Needs the `patchwire[otel]` extra (opentelemetry-sdk).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ..api import execute
from ..results import ResultCollector, RunResult
from ..tracing.consumer import TraceConsumer
from ..tracing.provider import TraceSink

__all__ = ["InMemoryTraces"]


class InMemoryTraces:
    """A tracer provider exporting every ended span at once into a list."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        processor = SimpleSpanProcessor(self.exporter)
        self.provider.add_span_processor(processor)
        self.factory = TraceConsumer.factory(TraceSink(self.provider, processor))
        self.events: list[Any] = []

    async def run(self, spec: Any, inputs: dict[str, Any] | None = None, **execute_options: Any) -> RunResult:
        """Run to the end with a trace consumer (and keep the events in `self.events`)."""
        execution = execute(spec, inputs, **execute_options)
        collector = ResultCollector()
        await execution.consume(collector, self.events.append, self.factory(execution.plan, execution.run_id))
        assert collector.result is not None
        return collector.result

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span named {name!r}, got {[s.name for s in self.spans()]}"
        return found[0]

    def root(self) -> ReadableSpan:
        roots = [s for s in self.spans() if s.attributes.get("gen_ai.operation.name") == "invoke_workflow"]
        assert len(roots) == 1, f"expected one root span, got {[s.name for s in roots]}"
        return roots[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.parent is not None and s.parent.span_id == parent.context.span_id]
