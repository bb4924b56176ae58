"""The OpenTelemetry settings the tracing tests start without (whatever the shell running them has set)."""

from __future__ import annotations

import pytest

OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
             "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME",
             "OTEL_RESOURCE_ATTRIBUTES")


@pytest.fixture(autouse=True)
def no_otel_settings(monkeypatch):
    for name in OTEL_VARS:
        monkeypatch.delenv(name, raising=False)
