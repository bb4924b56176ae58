"""Prometheus metrics of the runs a `patchwire serve` process executes, folded from their events.

    patchwire_runs_total{pipeline,status}                    runs finished
    patchwire_run_latency_seconds{pipeline}                  run latency (histogram)
    patchwire_node_latency_seconds{pipeline,node,component}  node latency (histogram; finished and failed nodes)
    patchwire_model_tokens_total{model,kind}                 tokens by model, kind prompt | completion
    patchwire_model_cost_usd_total{model}                    cost by model (priced calls only)
    patchwire_node_retries_total{pipeline,node}              retries
    patchwire_runs_in_flight{pipeline}                       runs started, not finished

One registry per process (`serve_metrics()`), fed by `MetricsFold`, one per run, made by `metrics_factory`
(added by `default_consumers("serve")`) and read by serve's `/metrics`. `prometheus_client` is imported only
here, so a CLI run never loads it. With `serve --workers N` each worker has its own registry: a scrape sees
the worker that answered it (see the README).
"""

from __future__ import annotations

import threading
from typing import Any

from .events import (
    EventFold,
    NodeCached,
    NodeCancelled,
    NodeChunk,
    NodeLog,
    NodePaused,
    NodeResumed,
    NodeSkipped,
    NodeStarted,
)
from .usage import USAGE_PORT

__all__ = ["ServeMetrics", "MetricsFold", "serve_metrics", "metrics_factory"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ServeMetrics:
    """The metric families, on their own registry (scraped by `/metrics`)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry = CollectorRegistry()
        self.runs = Counter("patchwire_runs", "Runs finished", ["pipeline", "status"], registry=registry)
        self.run_latency = Histogram("patchwire_run_latency_seconds", "Run latency", ["pipeline"],
                                     buckets=LATENCY_BUCKETS, registry=registry)
        self.node_latency = Histogram("patchwire_node_latency_seconds", "Node latency (finished or failed)",
                                      ["pipeline", "node", "component"], buckets=LATENCY_BUCKETS, registry=registry)
        self.tokens = Counter("patchwire_model_tokens", "Model tokens", ["model", "kind"], registry=registry)
        self.cost = Counter("patchwire_model_cost_usd", "Model cost in USD (priced calls)", ["model"],
                            registry=registry)
        self.retries = Counter("patchwire_node_retries", "Node retries", ["pipeline", "node"], registry=registry)
        self.in_flight = Gauge("patchwire_runs_in_flight", "Runs in flight", ["pipeline"], registry=registry)

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


_METRICS: ServeMetrics | None = None
_LOCK = threading.Lock()


def serve_metrics() -> ServeMetrics:
    global _METRICS
    with _LOCK:
        if _METRICS is None:
            _METRICS = ServeMetrics()
    return _METRICS


class MetricsFold(EventFold):
    """One run's events into the process's metrics."""

    IGNORES = (NodeStarted, NodeChunk, NodeLog, NodeCached, NodeSkipped, NodeCancelled, NodePaused, NodeResumed)

    def __init__(self, metrics: ServeMetrics, pipeline: str, components: dict[str, str]):
        self.metrics, self.pipeline, self.components = metrics, pipeline, components

    def on_run_started(self, event: Any) -> None:
        self.metrics.in_flight.labels(self.pipeline).inc()

    def on_run_finished(self, event: Any) -> None:
        metrics = self.metrics
        metrics.in_flight.labels(self.pipeline).dec()
        metrics.runs.labels(self.pipeline, event.status).inc()
        metrics.run_latency.labels(self.pipeline).observe(event.latency_ms / 1000)

    def on_node_finished(self, event: Any) -> None:
        self._node_latency(event)
        usage = event.outputs.get(USAGE_PORT)
        if usage is None:
            return
        data = usage.model_dump() if hasattr(usage, "model_dump") else usage
        if not isinstance(data, dict):
            return
        model = str(data.get("model") or "unknown")
        for kind in ("prompt", "completion"):
            count = data.get(f"{kind}_tokens")
            if isinstance(count, int) and count > 0:
                self.metrics.tokens.labels(model, kind).inc(count)
        cost = data.get("cost_usd")
        if isinstance(cost, int | float) and cost > 0:
            self.metrics.cost.labels(model).inc(cost)

    def on_node_failed(self, event: Any) -> None:
        self._node_latency(event)

    def on_node_retrying(self, event: Any) -> None:
        self.metrics.retries.labels(self.pipeline, event.node_id).inc()

    def _node_latency(self, event: Any) -> None:
        component = self.components.get(event.node_id, "")
        self.metrics.node_latency.labels(self.pipeline, event.node_id, component).observe(event.latency_ms / 1000)


def metrics_factory() -> Any:
    """`(plan, run_id) -> MetricsFold` (the component map is built once per plan)."""
    metrics = serve_metrics()
    folds: dict[int, tuple[str, dict[str, str]]] = {}

    def make(plan: Any, run_id: str) -> MetricsFold:
        known = folds.get(id(plan))
        if known is None:
            known = folds[id(plan)] = (plan.spec.name, {node.id: node.component_id for node in plan.nodes})
        return MetricsFold(metrics, *known)

    return make
