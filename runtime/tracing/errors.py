"""The error tracing's settings raise: its own module, so the package and its parts import it one way."""

from __future__ import annotations

__all__ = ["TracingConfigError"]


class TracingConfigError(ValueError):
    """The OTEL_* settings ask for something Patchwire's tracing cannot do (said with the fix)."""
