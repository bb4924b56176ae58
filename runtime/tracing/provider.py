"""The process's one TracerProvider: OTLP over HTTP/protobuf, a batch span processor, OTEL_* honoured.

The exporter reads the standard variables itself (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `_HEADERS`,
`_TIMEOUT`, `_COMPRESSION`, `_CERTIFICATE`), the batch processor `OTEL_BSP_*`, the provider
`OTEL_TRACES_SAMPLER[_ARG]`, the resource `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. Spans
are exported from the processor's thread, never on the event loop; the provider flushes at exit.
The provider is Patchwire's own, not the global one: an application embedding the runtime keeps its own.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from . import TracingConfigError

__all__ = ["TraceSink", "trace_sink", "PROTOCOL_VARS", "SUPPORTED_PROTOCOL", "DEFAULT_SERVICE_NAME"]

PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
SUPPORTED_PROTOCOL = "http/protobuf"
DEFAULT_SERVICE_NAME = "patchwire"
_lock = threading.Lock()
_sink: TraceSink | None = None


@dataclass(frozen=True)
class TraceSink:
    """Where finished spans go: a provider (resource, sampler, ids, limits from OTEL_*) and its processor.

    The consumer builds finished spans itself and hands them to `processor.on_end`: one object per span
    on the event loop instead of the SDK's live-span bookkeeping (see `consumer`)."""

    provider: Any
    processor: Any


def trace_sink() -> TraceSink:
    """The sink every tracing consumer of this process uses (made on first use)."""
    global _sink
    with _lock:
        if _sink is None:
            _check_protocol()
            _sink = TraceSink(*_make_provider())
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


def _make_provider() -> tuple[Any, Any]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)  # shutdown_on_exit: the batch is flushed when the process ends
    processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    return provider, processor
