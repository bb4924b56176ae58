"""serve's `/metrics`: Prometheus text scraped after a few runs, behind the same gate as every route."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from runtime.consumers import default_consumers
from runtime.serving.app import create_app
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

TOKEN = "metrics-test-token-0123456789abcdef"


def pipelines() -> list[Any]:
    ok = make_spec({"query": ("io.input", {}), "echo": ("demo.echo", {"prefix": "m:"}),
                    "flaky": ("demo.fail_n_times", {"failures": 1}, {"retries": 1, "retry_backoff_s": 0}),
                    "out": ("io.output", {})},
                   [("query", "value", "echo", "value"), ("echo", "value", "flaky", "value"),
                    ("flaky", "value", "out", "value")], name="metered")
    broken = make_spec({"query": ("io.input", {}), "boom": ("demo.raise", {"message": "down"}),
                        "out": ("io.output", {})},
                       [("query", "value", "boom", "value"), ("boom", "value", "out", "value")], name="metered-broken")
    return [ok, broken]


def client(token: str = "") -> TestClient:
    app = create_app(pipelines(), sample_registry(), api_token=token, allowed_hosts=("testserver",),
                     consumers=default_consumers("serve", record=False))
    return TestClient(app)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_metrics_count_runs_latency_retries_and_in_flight_after_a_few_runs() -> None:
    with client() as http:
        before = http.get("/metrics").text
        for _ in range(3):
            assert http.post("/v1/pipelines/metered/run", json={"inputs": {"query": "x"}}).status_code == 200
        assert http.post("/v1/pipelines/metered-broken/run", json={"inputs": {"query": "x"}}).status_code == 500
        scraped = http.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text

    def delta(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert delta("patchwire_runs_total", pipeline="metered", status="succeeded") == 3
    assert delta("patchwire_runs_total", pipeline="metered-broken", status="failed") == 1
    assert delta("patchwire_run_latency_seconds_count", pipeline="metered") == 3
    assert delta("patchwire_node_latency_seconds_count", pipeline="metered", node="echo", component="demo.echo") == 3
    assert delta("patchwire_node_latency_seconds_count", pipeline="metered-broken", node="boom",
                 component="demo.raise") == 1
    assert delta("patchwire_node_retries_total", pipeline="metered", node="flaky") == 3
    assert sample(text, "patchwire_runs_in_flight", pipeline="metered") == 0
    assert "# TYPE patchwire_model_tokens_total counter" in text and "# TYPE patchwire_model_cost_usd_total counter" in text


def test_metrics_need_the_token_when_one_is_set() -> None:
    with client(TOKEN) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong-token-123"}).status_code == 401
        ok = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "patchwire_runs_total" in ok.text


def test_model_tokens_and_cost_are_counted_by_model() -> None:
    from runtime.events import NodeFinished
    from runtime.metrics import MetricsFold, serve_metrics

    metrics = serve_metrics()
    fold = MetricsFold(metrics, "p", {"chat": "llm.chat"})
    usage = {"model": "test-model-x", "prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12,
             "cost_usd": 0.25}
    fold(NodeFinished(run_id="r", node_id="chat", ts=0.0, latency_ms=3.0, attempts=1, outputs={"usage": usage}))
    text = metrics.exposition()[0].decode()
    assert sample(text, "patchwire_model_tokens_total", model="test-model-x", kind="prompt") == 7
    assert sample(text, "patchwire_model_tokens_total", model="test-model-x", kind="completion") == 5
    assert sample(text, "patchwire_model_cost_usd_total", model="test-model-x") == 0.25


def test_only_serve_runs_are_metered() -> None:
    from runtime.metrics import MetricsFold

    plan = type("P", (), {"spec": type("S", (), {"name": "x"})(), "nodes": []})()
    for source in ("cli", "batch", "editor", "api"):
        assert not any(isinstance(make(plan, "r"), MetricsFold) for make in default_consumers(source, record=False))
