"""Tracing on and off: only with an OTLP endpoint, only over HTTP, its service name and span queue from the
standard OTEL_* settings, unusable settings refused before a run, and tracing off importing nothing of
OpenTelemetry."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from runtime.consumers import default_consumers
from runtime.tracing import TracingConfigError, tracing_enabled, tracing_factory
from runtime.tracing import provider as provider_module
from tests.runtime.otel_env import no_otel_settings  # noqa: F401  (autouse)


def test_tracing_is_on_only_with_an_otlp_endpoint(monkeypatch):
    assert not tracing_enabled()
    assert len(default_consumers("cli", record=False)) == 0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    assert tracing_enabled()
    assert len(default_consumers("cli", record=False)) == 1
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing_enabled()


def test_a_protocol_other_than_http_protobuf_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(provider_module, "_sink", None)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(TracingConfigError) as caught:
        tracing_factory()
    assert str(caught.value) == (
        "OTEL_EXPORTER_OTLP_PROTOCOL='grpc': Patchwire sends traces as OTLP over HTTP (http/protobuf) only. "
        "Set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (most collectors, Phoenix and Langfuse accept it on port "
        "4318 or their /v1/traces path) or unset it.")


def test_the_cli_refuses_unusable_tracing_settings_before_running(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
    proc = subprocess.run([sys.executable, "-m", "runtime.cli", "run", "examples/hello.json", "--input", "query=x",
                           "--no-record"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='grpc': Patchwire sends traces as OTLP "
                                  "over HTTP (http/protobuf) only.")


def test_the_service_name_is_patchwire_unless_otel_service_name_says_otherwise(monkeypatch):
    made = provider_module.make_sink().provider
    try:
        assert made.resource.attributes["service.name"] == "patchwire"
    finally:
        made.shutdown()
    monkeypatch.setenv("OTEL_SERVICE_NAME", "rag-api")
    made = provider_module.make_sink().provider
    try:
        assert made.resource.attributes["service.name"] == "rag-api"
    finally:
        made.shutdown()


PROBE = textwrap.dedent("""
    import asyncio, json, sys, threading
    from runtime.consumers import default_consumers, run_with_consumers
    from runtime.api import compile
    from runtime.testing.components import TextValue, sample_registry
    from runtime.testing.specs import chain_spec
    result = asyncio.run(run_with_consumers(compile(chain_spec(3), sample_registry()), {"query": "x"},
                                            default_consumers("cli", record=False)))
    loaded = [m for m in ("runtime.tracing.consumer", "opentelemetry.sdk.trace",
                          "opentelemetry.exporter.otlp.proto.http") if m in sys.modules]
    print(json.dumps({"status": result.status, "loaded": loaded,
                      "threads": sorted(t.name for t in threading.enumerate())}))
""")


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:9"])
def test_with_tracing_off_nothing_of_opentelemetry_is_imported(endpoint: str | None, monkeypatch):
    """A fresh process: off, no SDK module and no export thread; on (a closed loopback port), both."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if endpoint:
        env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_EXPORT_TIMEOUT": "500",
                "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["status"] == "succeeded"
    if endpoint is None:
        assert report["loaded"] == []
        assert not [t for t in report["threads"] if "span" in t.lower() or "otel" in t.lower()]
    else:
        assert report["loaded"] == ["runtime.tracing.consumer", "opentelemetry.sdk.trace",
                                    "opentelemetry.exporter.otlp.proto.http"]


def test_the_span_queue_holds_16384_spans_unless_otel_bsp_max_queue_size_says_otherwise(monkeypatch):
    sink = provider_module.make_sink()
    try:
        assert sink.processor._batch_processor._max_queue_size == provider_module.DEFAULT_MAX_QUEUE_SIZE == 16_384
        assert (sink.handoff_spans, sink.handoff_s) == (8192, 5.0)
    finally:
        sink.provider.shutdown()
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "1000")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    sink = provider_module.make_sink()
    try:
        assert sink.processor._batch_processor._max_queue_size == 1000
        assert (sink.handoff_spans, sink.handoff_s) == (500, 0.25)
    finally:
        sink.provider.shutdown()
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "lots")
    with pytest.raises(TracingConfigError, match=r"OTEL_BSP_MAX_QUEUE_SIZE='lots' must be a whole number above 0"):
        provider_module.make_sink()
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512")
    with pytest.raises(TracingConfigError, match="Set OTEL_BSP_MAX_EXPORT_BATCH_SIZE at most OTEL_BSP_MAX_QUEUE_SIZE"):
        provider_module.make_sink()
