"""`patchwire serve`: a real uvicorn server on loopback, driven over HTTP with httpx."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.export import export_spec
from runtime.serving.app import CONFIG_ENV, ServeConfigError, app_from_env, create_app
from runtime.testing.components import sample_registry
from runtime.testing.servers import free_port
from runtime.testing.servers import serve_app as serving
from runtime.testing.specs import make_spec

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
TOKEN = "test-token-5f1c9a7e3b2d4c6a"


def linear(name: str, *steps: tuple[str, dict]) -> object:
    nodes: dict[str, tuple] = {"q": ("io.input", {"name": "query"})}
    edges, previous = [], "q"
    for i, step in enumerate(steps):
        nodes[f"s{i}"] = step
        edges.append((previous, "value", f"s{i}", "value"))
        previous = f"s{i}"
    nodes["out"] = ("io.output", {})
    edges.append((previous, "value", "out", "value"))
    return make_spec(nodes, edges, name=name)


PIPELINES = [
    linear("alpha", ("demo.echo", {"prefix": "A:"}), ("demo.delay", {"seconds": 0.02})),
    linear("beta", ("demo.delay", {"seconds": 0.01}), ("demo.echo", {"prefix": "B:"})),
    linear("stream", ("demo.stream", {"words": 3}), ("demo.echo", {"prefix": "done:"})),
    linear("slow", ("demo.delay", {"seconds": 5})),
    linear("broken", ("demo.raise", {"message": "the model is down"})),
]




EVENTS: list[tuple[str, object]] = []  # what the consumer hook saw, (run_id, event)


def recorder(plan, run_id):
    return lambda event: EVENTS.append((run_id, event))


def broken_consumer(plan, run_id):
    def consume(event):
        raise RuntimeError("the recorder's database is gone")
    return consume


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_app(PIPELINES, sample_registry(), api_token="", max_body_bytes=4096, request_timeout_s=0.5,
                     consumers=[recorder, broken_consumer])
    with serving(app) as url:
        yield url


async def test_fifty_concurrent_requests_to_two_pipelines_are_all_answered_correctly(base_url: str):
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        async def ask(i: int) -> tuple[int, httpx.Response]:
            name = "alpha" if i % 2 else "beta"
            return i, await client.post(f"/v1/pipelines/{name}/run", json={"inputs": {"query": f"request-{i}"}})

        t0 = time.perf_counter()
        answers = await asyncio.gather(*(ask(i) for i in range(50)))
        elapsed = time.perf_counter() - t0
    run_ids = set()
    for i, response in answers:
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"run_id", "status", "latency_ms", "outputs", "error", "nodes", "egress"}  # `run --json`
        assert body["status"] == "succeeded"
        assert body["outputs"] == {"out": f"{'A:' if i % 2 else 'B:'}request-{i}"}  # its own input, no cross-talk
        assert body["nodes"]["q"]["outputs"] == {"value": f"request-{i}"}
        run_ids.add(body["run_id"])
    assert len(run_ids) == 50
    assert elapsed < 25 * 0.02 + 25 * 0.01, "requests were served one at a time"


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_sse_streams_node_events_and_tokens_in_order(base_url: str):
    response = httpx.post(f"{base_url}/v1/pipelines/stream/run", json={"inputs": {"query": "hi"}},
                          headers={"Accept": "text/event-stream"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert all(kind == data["kind"] for kind, data in events)
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished" and kinds.count("run_finished") == 1
    assert events[-1][1]["status"] == "succeeded" and events[-1][1]["outputs"] == {"out": "done:hi"}
    terminal = {data["node_id"] for kind, data in events if kind in ("node_finished", "node_skipped",
                                                                     "node_failed", "node_cached")}
    assert terminal == {"q", "s0", "s1", "out"}
    s0 = [(kind, data.get("text")) for kind, data in events if data.get("node_id") == "s0"]
    assert s0 == [("node_started", None), ("node_chunk", "hi-0 "), ("node_chunk", "hi-1 "),
                  ("node_chunk", "hi-2 "), ("node_finished", None)]
    position = {data["node_id"]: i for i, (kind, data) in enumerate(events) if kind == "node_finished"}
    assert position["q"] < position["s0"] < position["s1"] < position["out"]


def test_every_event_reaches_the_consumer_hook_even_next_to_a_broken_consumer(base_url: str):
    response = httpx.post(f"{base_url}/v1/pipelines/alpha/run", json={"inputs": {"query": "hook"}})
    assert response.status_code == 200  # the broken consumer did not fail the request
    run_id = response.json()["run_id"]
    kinds = [event.kind for rid, event in EVENTS if rid == run_id]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished" and kinds.count("node_finished") == 4


def test_bad_requests_get_a_clear_4xx(base_url: str):
    url = f"{base_url}/v1/pipelines/alpha/run"
    as_json = {"Content-Type": "application/json"}  # a raw body must say it is JSON (else 415)
    malformed = httpx.post(url, content=b'{"inputs": {"query": "x"', headers=as_json)
    assert malformed.status_code == 400
    assert malformed.json()["detail"] == ('Malformed JSON: Expecting \',\' delimiter at line 1, column 25. The '
                                          'body must be a JSON object like {"inputs": {"query": "..."}}.')
    missing = httpx.post(url, json={"inputs": {}})
    assert missing.status_code == 422
    assert missing.json()["problems"] == [
        'Input `query` is required: add it to `inputs` in the request body, e.g. {"inputs": {"query": ...}} '
        "(schema: GET /v1/pipelines/alpha)."]
    unknown = httpx.post(url, json={"inputs": {"query": "x", "qeury": "y"}})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == ("Invalid inputs for pipeline `alpha`: Unknown input `qeury`; this "
                                        "pipeline's inputs: `query`.")
    wrong_type = httpx.post(url, json={"inputs": {"query": 3}})
    assert wrong_type.status_code == 422 and "Input `query`: expected a string, got int 3" in wrong_type.text
    no_object = httpx.post(url, json=["query"])
    assert no_object.status_code == 422 and "must be a JSON object with an object `inputs`" in no_object.text
    too_big = httpx.post(url, json={"inputs": {"query": "x" * 5000}})
    assert too_big.status_code == 413
    assert too_big.json()["detail"].startswith("Request body too large: ")
    assert "the limit is 4096 bytes" in too_big.json()["detail"]
    chunked = httpx.post(url, content=iter([b'{"inputs": {"query": "', b"y" * 5000, b'"}}']),  # no length
                         headers=as_json)
    assert chunked.status_code == 413 and "the limit is 4096 bytes" in chunked.text
    assert httpx.post(url, content=b"").json()["detail"] == ('Empty body: send a JSON object like {"inputs": '
                                                            '{"query": "..."}}.')
    not_utf8 = httpx.post(url, content=b"{\"inputs\": \"\xff\"}", headers=as_json).json()["detail"]
    assert not_utf8 == "Malformed JSON: the body is not UTF-8 text."
    nan = httpx.post(url, content=b'{"inputs": {"query": NaN}}', headers=as_json)
    assert nan.status_code == 400
    assert nan.json()["detail"] == ("Malformed JSON: `NaN` is not a JSON value (JSON has no NaN or Infinity). "
                                    "Send a finite number, or null.")
    extra = httpx.post(url, json={"inputs": {"query": "x"}, "input": {}})
    assert extra.status_code == 422
    assert extra.json()["detail"] == "Unknown body field(s) `input`: the body has only `inputs`."
    nowhere = httpx.post(f"{base_url}/v1/pipelines/gamma/run", json={"inputs": {"query": "x"}})
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"] == ("No pipeline named `gamma`. Served pipelines: `alpha`, `beta`, `stream`, "
                                        "`slow`, `broken`.")


async def test_a_failing_or_timed_out_request_does_not_affect_the_others(base_url: str):
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        def post(name: str, query: str):
            return client.post(f"/v1/pipelines/{name}/run", json={"inputs": {"query": query}})

        slow, broken, *fine = await asyncio.gather(post("slow", "s"), post("broken", "b"),
                                                   *(post("alpha", f"ok-{i}") for i in range(5)))
    assert slow.status_code == 504
    assert slow.json()["detail"].startswith("Pipeline `slow` took longer than the 0.5 s request limit; the run "
                                            "was cancelled.")
    run_id = slow.json()["run_id"]
    finished = [e for rid, e in EVENTS if rid == run_id and e.kind == "run_finished"]
    assert finished[0].status == "cancelled"
    assert broken.status_code == 500
    body = broken.json()
    assert body["status"] == "failed" and body["nodes"]["s0"]["error"] == {"type": "ValueError",
                                                                           "message": "the model is down"}
    assert [r.json()["outputs"]["out"] for r in fine] == [f"A:ok-{i}" for i in range(5)]


def test_a_client_that_disconnects_cancels_its_streamed_run(base_url: str):
    with httpx.stream("POST", f"{base_url}/v1/pipelines/slow/run", json={"inputs": {"query": "bye"}},
                      headers={"Accept": "text/event-stream"}) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: run_started"
        run_id = json.loads(next(lines).removeprefix("data: "))["run_id"]
    deadline = time.monotonic() + 5
    while not any(rid == run_id and e.kind == "run_finished" for rid, e in EVENTS):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    finished = next(e for rid, e in EVENTS if rid == run_id and e.kind == "run_finished")
    assert finished.status == "cancelled"
    reasons = {e.reason for rid, e in EVENTS if rid == run_id and e.kind == "node_cancelled"}
    assert reasons == {"the client disconnected"}  # not the 0.5 s request limit


def test_pipelines_are_listed_and_described_with_json_schemas(base_url: str):
    listing = httpx.get(f"{base_url}/v1/pipelines").json()["pipelines"]
    assert [p["name"] for p in listing] == ["alpha", "beta", "stream", "slow", "broken"]
    assert listing[0] == {"name": "alpha", "description": "", "inputs": ["query"], "outputs": ["out"],
                          "url": "/v1/pipelines/alpha", "run_url": "/v1/pipelines/alpha/run"}
    detail = httpx.get(f"{base_url}/v1/pipelines/alpha").json()
    assert detail["inputs_schema"] == {"type": "object", "properties": {"query": {"type": "string"}},
                                       "required": ["query"], "additionalProperties": False}
    assert detail["outputs_schema"]["properties"] == {"out": {"type": "string", "description": "A text value"}}
    assert [n["id"] for n in detail["spec"]["nodes"]] == ["q", "s0", "s1", "out"]
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok", "pipelines": 5}
    assert httpx.get(f"{base_url}/docs").status_code == 200
    assert "/v1/pipelines/{name}/run" in httpx.get(f"{base_url}/openapi.json").json()["paths"]


def test_a_token_is_required_when_set():
    app = create_app(PIPELINES[:1], sample_registry(), api_token=TOKEN)
    with serving(app) as url:
        url_run = f"{url}/v1/pipelines/alpha/run"
        body = {"inputs": {"query": "x"}}
        anonymous = httpx.post(url_run, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["detail"] == ("Authentication required: send `Authorization: Bearer <token>` (the "
                                              "token the service was started with, PATCHWIRE_API_TOKEN).")
        wrong = httpx.post(url_run, json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid bearer token."
        assert httpx.get(f"{url}/v1/pipelines").status_code == 401
        right = httpx.post(url_run, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200 and right.json()["outputs"] == {"out": "A:x"}
        assert httpx.get(f"{url}/healthz").status_code == 200  # health checks stay open


def test_the_token_comes_from_the_environment_by_default(monkeypatch):
    monkeypatch.setenv("PATCHWIRE_API_TOKEN", TOKEN)
    with serving(create_app(PIPELINES[:1], sample_registry())) as url:
        assert httpx.get(f"{url}/v1/pipelines").status_code == 401
        assert httpx.get(f"{url}/v1/pipelines", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_settings_that_cannot_work_are_refused_before_starting(capsys, monkeypatch):
    from runtime.cli import main

    with pytest.raises(ServeConfigError, match="No pipelines to serve: give at least one spec file."):
        create_app([], sample_registry())
    with pytest.raises(ServeConfigError, match="max_body_bytes and request_timeout_s must be positive."):
        create_app(PIPELINES[:1], sample_registry(), request_timeout_s=0)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(ServeConfigError, match=f"{CONFIG_ENV} is not set; start the service with `patchwire serve"):
        app_from_env()
    assert main(["serve", "x.json", "--workers", "0"]) == 2
    assert capsys.readouterr().err == "error: --workers must be at least 1, got 0.\n"
    assert main(["serve", "x.json", "--port", "70000"]) == 2
    assert capsys.readouterr().err == "error: --port must be between 1 and 65535, got 70000.\n"


def test_duplicate_names_and_worker_settings(tmp_path: Path, monkeypatch):
    with pytest.raises(ServeConfigError, match="Two specs are named `alpha`; pipelines are served by their `name`"):
        create_app([PIPELINES[0], PIPELINES[0]], sample_registry())
    spec_file = tmp_path / "alpha.json"
    spec_file.write_text(PIPELINES[0].model_dump_json())
    monkeypatch.setenv(CONFIG_ENV, json.dumps({"specs": [str(spec_file)], "plugins": ["runtime.testing.components"],
                                               "max_body_bytes": 100, "request_timeout_s": 1}))
    assert [r.path for r in app_from_env().routes if "run" in r.path] == ["/v1/pipelines/{name}/run"]


def test_cli_refuses_to_bind_beyond_localhost_without_a_token(tmp_path: Path):
    spec_file = tmp_path / "alpha.json"
    spec_file.write_text(PIPELINES[0].model_dump_json())
    env = {k: v for k, v in os.environ.items() if k != "PATCHWIRE_API_TOKEN"}
    proc = subprocess.run([PATCHWIRE, "serve", str(spec_file), "--host", "0.0.0.0", "--plugin",
                           "runtime.testing.components"], capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: refusing to serve on 0.0.0.0 without authentication: that address is "
                                  "reachable from other machines. Set PATCHWIRE_API_TOKEN")


def test_cli_serves_a_spec_file_and_records_its_runs(tmp_path: Path, fresh_database):
    spec_file = tmp_path / "alpha.yaml"
    spec_file.write_bytes(export_spec(PIPELINES[0], "yaml").data)
    port = free_port()
    proc = subprocess.Popen([PATCHWIRE, "serve", str(spec_file), "--port", str(port), "--no-access-log",
                             "--plugin", "runtime.testing.components"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/v1/pipelines/alpha/run",
                                      json={"inputs": {"query": "cli"}})
                break
            except httpx.ConnectError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["outputs"] == {"out": "A:cli"}
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    assert f"serving alpha on http://127.0.0.1:{port} (no authentication); docs at /docs" in stderr
    from runtime.store.runs import get_run

    record, nodes = get_run(response.json()["run_id"])  # the run went to the configured database
    assert (record.source, record.status, record.outputs) == ("serve", "succeeded", {"out": "A:cli"})
    assert nodes["s0"].outputs == {"value": "A:cli"}


def test_the_cli_modules_stay_light():
    """The `runtime.cli` package loads on every `patchwire` start: no web stack, Ray or YAML."""
    code = ("import sys, runtime.cli; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'ray', 'yaml', 'httpx', "
            "'runtime.serving', 'runtime.batch', 'runtime.export', 'runtime.export.python') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "[]", proc.stderr
