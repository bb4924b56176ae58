"""End to end against a real OTLP backend no one here wrote: Arize Phoenix (`tests.infra.fixtures`), started
on loopback ports with its telemetry off. `patchwire run` sends the offline RAG template's trace over
OTLP/HTTP; the spans are read back through Phoenix's REST API (`GET /v1/projects/{project}/spans`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from components_catalog.demo_index import index_demo_kb

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "patchwire-e2e"


def phoenix_spans(base: str, run_id: str, expected: int, timeout: float = 60) -> list[dict]:
    """Every span of the run's trace, once Phoenix has stored `expected` of them."""
    deadline, spans = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/v1/projects/{PROJECT}/spans", params={"limit": 1000}, timeout=10)
        if response.status_code == 200:
            data = response.json()["data"]
            roots = [s for s in data if s["attributes"].get("patchwire.run.id") == run_id]
            if roots:
                trace_id = roots[0]["context"]["trace_id"]
                spans = [s for s in data if s["context"]["trace_id"] == trace_id]
                if len(spans) >= expected:
                    return spans
        time.sleep(0.5)
    raise AssertionError(f"Phoenix holds {len(spans)} spans of run {run_id} after {timeout:g} s, expected {expected}")


def test_phoenix_receives_the_rag_run_as_one_trace_with_gen_ai_spans(phoenix_server):
    index_demo_kb()  # into this test session's private data directory, which the subprocess inherits
    base = f"http://127.0.0.1:{phoenix_server.port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": base, "OTEL_SERVICE_NAME": "patchwire-e2e",
            "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={PROJECT}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(ROOT / "templates" / "rag_review.json"),
                           "--input", "query=How do I run a pipeline from the command line?", "--json",
                           "--no-record"], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    spans = phoenix_spans(base, result["run_id"], expected=1 + len(result["nodes"]) + 1)

    by_id = {s["context"]["span_id"]: s for s in spans}
    [root] = [s for s in spans if s["parent_id"] is None]
    assert root["name"] == "invoke_workflow rag-review"
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_workflow"
    assert root["attributes"]["patchwire.run.status"] == result["status"]
    nodes = {s["attributes"]["patchwire.node.id"]: s for s in spans if s["parent_id"] == root["context"]["span_id"]}
    assert sorted(nodes) == sorted(result["nodes"])  # one child span per node, each under the root
    for node_id, span in nodes.items():
        assert span["attributes"]["patchwire.node.status"] == result["nodes"][node_id]["status"]

    retrieve = nodes["retrieve"]
    assert retrieve["name"] == "retrieval patchwire-docs"
    assert retrieve["span_kind"] == "RETRIEVER"
    assert retrieve["attributes"]["gen_ai.operation.name"] == "retrieval"
    assert retrieve["attributes"]["gen_ai.data_source.id"] == "patchwire-docs"

    [chat] = [s for s in spans if s["name"].startswith("chat ")]
    assert by_id[chat["parent_id"]] is nodes["generate"]
    assert chat["name"] == "chat local/extractive"
    assert chat["span_kind"] == "LLM"
    attrs = chat["attributes"]
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "local/extractive"
    assert attrs["gen_ai.provider.name"] == "local"
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0
    assert not any(key.startswith("gen_ai.input") for key in attrs)  # no content without the opt-in
