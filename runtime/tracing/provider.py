"""The process's one TracerProvider: OTLP over HTTP/protobuf, a batch span processor, OTEL_* honoured.

The exporter reads the standard variables itself (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `_HEADERS`,
`_TIMEOUT`, `_COMPRESSION`, `_CERTIFICATE`), the batch processor `OTEL_BSP_*`, the provider
`OTEL_TRACES_SAMPLER[_ARG]`, the resource `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. Spans
are exported from the processor's thread, never on the event loop; the provider flushes at exit.
The provider is Patchwire's own, not the global one: an application embedding the runtime keeps its own.

A run's spans reach the processor when the run ends (or `handoff_spans` at a time, or once the first waiting
span is `handoff_s` old): the processor's thread then encodes them after the run instead of beside it. Its
OTLP encoding is pure Python, ~50-70 µs a span, and a thread exporting while a big run goes on shares the
interpreter with the event loop: tracing cost 12-16 µs a node at 200 nodes but 120-130 µs at 2,000, where the
processor (woken every 512 spans) exported during the run. The queue defaults to 16,384 spans (the SDK's
2,048 drops the spans of a larger run, one warning each); `OTEL_BSP_MAX_QUEUE_SIZE` still decides.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from .errors import TracingConfigError

__all__ = ["TraceSink", "trace_sink", "make_sink", "PROTOCOL_VARS", "SUPPORTED_PROTOCOL", "DEFAULT_SERVICE_NAME",
           "DEFAULT_MAX_QUEUE_SIZE"]

PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
SUPPORTED_PROTOCOL = "http/protobuf"
DEFAULT_SERVICE_NAME = "patchwire"
DEFAULT_MAX_QUEUE_SIZE = 16_384  # OTEL_BSP_MAX_QUEUE_SIZE when it is not set
DEFAULT_SCHEDULE_DELAY_MS = 5000  # the SDK's OTEL_BSP_SCHEDULE_DELAY default
_lock = threading.Lock()
_sink: TraceSink | None = None


@dataclass(frozen=True)
class TraceSink:
    """Where finished spans go: a provider (resource, sampler, ids, limits from OTEL_*) and its processor.

    The consumer builds finished spans itself and hands them to `processor.on_end`: one object per span
    on the event loop instead of the SDK's live-span bookkeeping (see `consumer`)."""

    provider: Any
    processor: Any
    handoff_spans: int = 1  # a run's finished spans go to the processor this many at a time (and when it ends)
    handoff_s: float = 0.0  # ... or once the first of them has waited this long


def trace_sink() -> TraceSink:
    """The sink every tracing consumer of this process uses (made on first use)."""
    global _sink
    with _lock:
        if _sink is None:
            _check_protocol()
            _sink = make_sink()
        return _sink


def _check_protocol() -> None:
    for name in PROTOCOL_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            if value.lower() != SUPPORTED_PROTOCOL:
                raise TracingConfigError(
                    f"{name}={value!r}: Patchwire sends traces as OTLP over HTTP ({SUPPORTED_PROTOCOL}) only. "
                    f"Set {name}={SUPPORTED_PROTOCOL} (most collectors, Phoenix and Langfuse accept it on port "
                    "4318 or their /v1/traces path) or unset it.")
            return  # the traces-specific variable wins over the general one


def make_sink(exporter: Any = None) -> TraceSink:
    """A provider and batch processor exporting through `exporter` (the OTLP/HTTP one from OTEL_* unless
    given), with Patchwire's queue size and hand-off (see the module's docstring)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    queue = _positive_int("OTEL_BSP_MAX_QUEUE_SIZE", DEFAULT_MAX_QUEUE_SIZE)
    delay_ms = _positive_int("OTEL_BSP_SCHEDULE_DELAY", DEFAULT_SCHEDULE_DELAY_MS)
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)  # shutdown_on_exit: the batch is flushed when the process ends
    try:
        processor = BatchSpanProcessor(exporter, max_queue_size=queue, schedule_delay_millis=delay_ms)
    except ValueError as exc:  # e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE above the queue size
        raise TracingConfigError(f"The OTEL_BSP_* settings cannot be used: {exc} (queue size {queue}). Set "
                                 "OTEL_BSP_MAX_EXPORT_BATCH_SIZE at most OTEL_BSP_MAX_QUEUE_SIZE, or unset them.") from None
    provider.add_span_processor(processor)
    return TraceSink(provider, processor, handoff_spans=max(1, queue // 2), handoff_s=delay_ms / 1000)


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise TracingConfigError(f"{name}={raw!r} must be a whole number above 0. Fix it, or unset it for the "
                                 f"default ({default}).")
    return value
