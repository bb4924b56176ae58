"""OpenTelemetry traces of runs, in the GenAI semantic conventions: on only when an OTLP endpoint is set.

Tracing is on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and
`OTEL_SDK_DISABLED` is not `true`); `runtime.consumers.default_consumers` then adds `tracing_factory()` to
every entry point. This module and `propagation` import nothing from opentelemetry: with tracing off no
exporter exists, nothing connects anywhere, and `traceparent()` (asked by outgoing HTTP calls) is one
lookup in an empty dict. The SDK is loaded by `tracing_factory()` only (the `patchwire[otel]` extra).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import TracingConfigError
from .propagation import continue_trace, traceparent

if TYPE_CHECKING:
    from ..consumers import ConsumerFactory

__all__ = ["ENDPOINT_VARS", "TracingConfigError", "tracing_enabled", "tracing_factory", "traceparent",
           "continue_trace"]

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether runs are traced: an OTLP endpoint is configured and the SDK is not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARS)


def tracing_factory() -> ConsumerFactory:
    """`(plan, run_id) -> consumer` sending each run's trace to the configured OTLP endpoint.

    Raises `TracingConfigError` when the SDK is not installed or the settings cannot be honoured."""
    try:
        from .consumer import TraceConsumer
    except ImportError as exc:
        raise TracingConfigError(
            f"Tracing is on ({_configured_var()} is set) but OpenTelemetry is not installed ({exc.name} is "
            "missing). Install it with `pip install 'patchwire[otel]'` (scripts/setup.sh does), or unset "
            f"{_configured_var()} to run without traces.") from None
    return TraceConsumer.factory()


def _configured_var() -> str:
    return next((name for name in ENDPOINT_VARS if os.environ.get(name, "").strip()), ENDPOINT_VARS[1])
