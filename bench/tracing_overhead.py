"""Tracing's cost per node, side by side in one process: the same run without and with the tracing consumer.

    .venv/bin/python bench/tracing_overhead.py [--nodes 200 2000] [--repeat 7]

A chain of no-op nodes (`demo.echo`), consumed by a result collector alone, then also by a `TraceConsumer`
whose provider exports through the real OTLP/HTTP exporter and a batch span processor (as with
`OTEL_EXPORTER_OTLP_ENDPOINT` set) to a loopback sink in a subprocess that answers every POST with 200.
The difference, divided by the node count, is what tracing adds per node (one span each; target ≤ 30 µs).
The batch is flushed after each timed run, outside the timing, as the processor's thread would do later.

Sizes from 200 to 2,000 nodes, each two ways: as Patchwire sends spans (a run's spans reach the processor
when it ends, so its thread encodes them after the run) and as the SDK's usual way would (each span handed
over as it ends: the processor wakes every 512 spans and encodes them during the run, sharing the
interpreter with the event loop — what made a 2,000-node run cost 120-130 µs a node). The export's own CPU
time, after the run, is printed per span.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any

from runtime import compile, execute
from runtime.results import ResultCollector
from runtime.testing.components import sample_registry
from runtime.testing.servers import free_port
from runtime.testing.specs import chain_spec

SINK = textwrap.dedent("""
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        def log_message(self, *args): pass
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
""")


def _otlp_sink(endpoint: str, handoff: bool) -> Any:
    """Patchwire's sink (`make_sink`) with the real OTLP/HTTP exporter; `handoff=False`: the SDK's defaults
    (a 2,048-span queue) and every span handed to the processor as it ends."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from runtime.tracing.provider import TraceSink, make_sink

    if handoff:
        return make_sink(OTLPSpanExporter(endpoint=endpoint))
    provider = TracerProvider()
    processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    provider.add_span_processor(processor)
    return TraceSink(provider, processor)


async def _run(plan: Any, factory: Any) -> float:
    execution = execute(plan, {"query": "x"})
    consumers = [ResultCollector()] + ([factory(plan, execution.run_id)] if factory else [])
    t0 = time.perf_counter()
    await execution.consume(*consumers)
    return time.perf_counter() - t0


async def main(nodes: int, repeat: int, endpoint: str, handoff: bool = True) -> dict[str, float]:
    from runtime.tracing.consumer import TraceConsumer

    plan = compile(chain_spec(nodes), sample_registry())
    sink = _otlp_sink(endpoint, handoff)
    provider = sink.provider
    factory = TraceConsumer.factory(sink)
    for _ in range(2):  # warm up both paths (imports, caches)
        await _run(plan, None)
        await _run(plan, factory)
        provider.force_flush()
    plain, traced, flush = [], [], []
    for _ in range(repeat):  # interleaved, so machine load hits both alike
        plain.append(await _run(plan, None))
        traced.append(await _run(plan, factory))
        t0 = time.perf_counter()
        provider.force_flush()
        flush.append(time.perf_counter() - t0)
    provider.shutdown()
    off, on = statistics.median(plain), statistics.median(traced)
    return {"nodes": nodes + 2, "off_s": off, "on_s": on, "per_node_us": (on - off) / (nodes + 2) * 1e6,
            "flush_s": statistics.median(flush), "handoff": handoff}


def report(row: dict[str, Any]) -> str:
    how = "spans handed over at the run's end" if row["handoff"] else "each span handed over as it ends (SDK way)"
    return (f"chain of {row['nodes']:.0f} nodes, {how}: tracing off {row['off_s'] * 1000:.1f} ms, on "
            f"{row['on_s'] * 1000:.1f} ms -> {row['per_node_us']:.1f} µs per node (target ≤ 30 µs); export left "
            f"after the run {row['flush_s'] * 1000:.0f} ms = {row['flush_s'] / (row['nodes'] + 1) * 1e6:.0f} µs "
            "per span (processor thread)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[200, 500, 2000])
    parser.add_argument("--sdk-way", action="store_true", help="also run each size the SDK's way (for comparison)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)])
    try:
        time.sleep(0.5)
        for nodes in args.nodes:
            for handoff in (True, False) if args.sdk_way else (True,):
                print(report(asyncio.run(main(nodes, args.repeat, f"http://127.0.0.1:{port}/v1/traces", handoff))))
    finally:
        sink.terminate()
        sink.wait(5)
