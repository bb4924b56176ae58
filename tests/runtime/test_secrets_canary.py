"""Canary values in every secret-looking env var reach no output, record, log, response or export.

Real parts only: `patchwire run`, `patchwire serve` (a subprocess writing SQLite records; its pipeline API,
OpenAI-compatible API and MCP endpoint), `patchwire export`
and `export-python`, an `action.http` node echoing its headers from a loopback server, `llm.chat` streaming
a reply that quotes the keys from the fake OpenAI server, and plugin components that read the environment
as a library would. `DATABASE_URL` is a canary too, so every `patchwire` command runs in its own process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.servers import free_port
from runtime.testing.specs import make_spec
from tests.infra.services import wait_until_answers

PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))
ROOT = Path(__file__).parents[2]
CANARIES = {
    "OPENAI_API_KEY": "sk-canary-openai-4f1d9a2c7e",
    "GITHUB_TOKEN": "ghp_canaryGithubToken51e0b3",
    "AWS_SECRET_ACCESS_KEY": "canary/aws+secret/9Qz7Lm2X",
    "DB_PASSWORD": "canary-db-password-83c1",
    "ACME_CREDENTIAL": "canary-acme-credential-d2a7",  # secret because PATCHWIRE_SECRETS allows `ACME_*`
}
PLUGIN = '''
import os

from pydantic import BaseModel
from runtime import Component, RunContext, component

NAMES = ("OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "DATABASE_URL", "ACME_CREDENTIAL")


class Text(BaseModel):
    value: str


class Leaked(BaseModel):
    value: str
    nested: dict


def everything() -> str:
    return " ".join(f"{name}={os.environ[name]}" for name in NAMES)


@component(id="canary.leak", version=1, title="Leak")
class Leak(Component):
    """Read every secret from the environment, as a library would, and put it in each place."""

    async def run(self, inputs: Text, ctx: RunContext) -> Leaked:
        ctx.emit_chunk("chunk " + everything())
        ctx.log("log " + everything())
        ctx.record("library_request", {"env": everything()})
        return Leaked(value=inputs.value + " " + everything(), nested={"list": [everything()]})


@component(id="canary.fail", version=1, title="Fail")
class Fail(Component):
    """Fail quoting every secret (a provider error echoing the request)."""

    async def run(self, inputs: Text, ctx: RunContext) -> Text:
        raise RuntimeError("upstream refused: " + everything())
'''


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every POST with the request's headers: an API that echoes `Authorization`."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        body = json.dumps({"headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def leaky_spec(echo_url: str, api_base: str) -> Any:
    headers = {"Authorization": "Bearer ${secret:OPENAI_API_KEY}", "X-Acme": "${secret:ACME_CREDENTIAL}"}
    spec = make_spec(
        {"q": ("io.input", {"name": "query"}),
         "http": ("action.http", {"method": "POST", "url": echo_url, "headers": headers}),
         "chat": ("llm.chat", {"model": "openai/gpt-4o-mini", "api_base": api_base, "stream": True}),
         "leak": ("canary.leak", {}),
         "fail": ("canary.fail", {}, {"on_error": "continue"}),
         "out_http": ("io.output", {}), "out_chat": ("io.output", {}), "out_leak": ("io.output", {})},
        [("q", "value", "http", "body"), ("q", "value", "chat", "prompt"), ("q", "value", "leak", "value"),
         ("q", "value", "fail", "value"), ("http", "body", "out_http", "value"), ("chat", "text", "out_chat", "value"),
         ("leak", "value", "out_leak", "value")], name="leaky")
    spec.description = f"pasted by mistake: {CANARIES['GITHUB_TOKEN']}"  # the run record keeps the spec
    return spec


def failing_spec() -> Any:
    return make_spec({"q": ("io.input", {"name": "query"}), "fail": ("canary.fail", {}), "out": ("io.output", {})},
                     [("q", "value", "fail", "value"), ("fail", "value", "out", "value")], name="failing")


def pasted_spec() -> Any:
    """A spec a user pasted secret values into: for `export` and `export-python`."""
    spec = make_spec(
        {"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": CANARIES["OPENAI_API_KEY"] + " "}),
         "leak": ("canary.leak", {}),
         "h": ("action.http", {"url": f"http://admin:{CANARIES['DB_PASSWORD']}@127.0.0.1:9/x"},
               {"on_error": "continue"}),
         "out": ("io.output", {})},
        [("q", "value", "e", "value"), ("e", "value", "leak", "value"), ("leak", "value", "out", "value"),
         ("q", "value", "h", "body")], name="pasted")
    spec.description = f"uses {CANARIES['AWS_SECRET_ACCESS_KEY']} and {CANARIES['ACME_CREDENTIAL']}"
    return spec


@pytest.fixture
def setup(tmp_path: Path, echo: ThreadingHTTPServer, fake: FakeOpenAI) -> dict[str, Any]:
    plugin = tmp_path / "canary_plugin.py"
    plugin.write_text(PLUGIN)
    echo_url = f"http://127.0.0.1:{echo.server_address[1]}/echo"
    files = {}
    for spec in (leaky_spec(echo_url, fake.base_url), failing_spec(), pasted_spec()):
        files[spec.name] = tmp_path / f"{spec.name}.json"
        files[spec.name].write_text(spec.model_dump_json())
    database = tmp_path / "canary-database-url-6b0e.db"
    env = {**os.environ, **CANARIES, "DATABASE_URL": f"sqlite:///{database}", "PATCHWIRE_SECRETS": "*_API_KEY,ACME_*",
           "PATCHWIRE_HTTP_ALLOW": f"127.0.0.1:{echo.server_address[1]},127.0.0.1:{_port(fake.base_url)}"}
    secrets = [*CANARIES.values(), env["DATABASE_URL"]]
    return {"plugin": str(plugin), "files": files, "env": env, "database": database, "secrets": secrets,
            "echo": echo, "fake": fake}


def _port(url: str) -> int:
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def quoting_reply() -> list[dict[str, Any]]:
    """The model's next reply quotes two keys (streamed to the client word by word)."""
    return [{"reply": f"the keys are {CANARIES['OPENAI_API_KEY']} and {CANARIES['GITHUB_TOKEN']} ok"}]


def patchwire(setup: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATCHWIRE, *args, "--plugin", setup["plugin"], "--plugin", "runtime.testing.components"],
                          capture_output=True, text=True, timeout=180, env=setup["env"], cwd=ROOT)


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    found = [s for s in secrets if s in text]
    assert not found, f"{where} holds secret value(s) {found}"


def test_run_json_and_the_cli_show_no_secret(setup: dict[str, Any]) -> None:
    secrets = setup["secrets"]
    setup["fake"].script(quoting_reply())
    proc = patchwire(setup, "run", str(setup["files"]["leaky"]), "--input", "query=hello", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert setup["echo"].seen[-1]["Authorization"] == f"Bearer {CANARIES['OPENAI_API_KEY']}"  # it was sent
    assert result["outputs"]["out_http"]["headers"]["Authorization"] == "Bearer ***"
    assert result["outputs"]["out_chat"] == "the keys are *** and *** ok"
    assert result["nodes"]["fail"]["error"]["message"].startswith("upstream refused: OPENAI_API_KEY=*** ")
    assert_clean(proc.stdout + proc.stderr, secrets, "`patchwire run --json`")

    setup["fake"].script(quoting_reply())
    proc = patchwire(setup, "run", str(setup["files"]["leaky"]), "--input", "query=hello")
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout + proc.stderr, secrets, "`patchwire run` output")

    proc = patchwire(setup, "run", str(setup["files"]["failing"]), "--input", "query=hello")
    assert proc.returncode == 1 and "upstream refused: OPENAI_API_KEY=***" in proc.stderr, proc.stderr
    assert_clean(proc.stdout + proc.stderr, secrets, "the CLI's stderr on a failed run")


def test_serve_responses_the_sse_stream_the_logs_and_the_records_show_no_secret(setup: dict[str, Any]) -> None:
    secrets, port = setup["secrets"], free_port()
    files = setup["files"]
    proc = subprocess.Popen([PATCHWIRE, "serve", str(files["leaky"]), str(files["failing"]), "--port", str(port),
                             "--plugin", setup["plugin"], "--plugin", "runtime.testing.components"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=setup["env"], cwd=ROOT)
    base = f"http://127.0.0.1:{port}/v1/pipelines"
    try:
        wait_until_answers(proc, base, timeout_s=120)
        setup["fake"].script(quoting_reply())
        plain = httpx.post(f"{base}/leaky/run", json={"inputs": {"query": "hi"}}, timeout=120)
        setup["fake"].script(quoting_reply())
        stream = httpx.post(f"{base}/leaky/run", json={"inputs": {"query": "hi"}}, timeout=120,
                            headers={"Accept": "text/event-stream"})
        failed = httpx.post(f"{base}/failing/run", json={"inputs": {"query": "hi"}}, timeout=120)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert plain.status_code == 200 and plain.json()["outputs"]["out_chat"] == "the keys are *** and *** ok"
    assert stream.status_code == 200
    chunks = [data["text"] for kind, data in _sse(stream.text) if kind == "node_chunk" and data["node_id"] == "chat"]
    assert "".join(chunks) == "the keys are *** and *** ok"
    assert failed.json()["status"] == "failed"
    for text, where in ((plain.text, "the serve response"), (stream.text, "the SSE stream"),
                        (failed.text, "a failed run's response"), (stdout + stderr, "serve's logs")):
        assert_clean(text, secrets, where)
    stored = b"".join(p.read_bytes() for p in setup["database"].parent.glob(setup["database"].name + "*"))
    for run_id in (plain.json()["run_id"], failed.json()["run_id"]):
        assert run_id.encode() in stored  # the runs were recorded ...
    assert b"pasted by mistake: ***" in stored  # ... with their spec
    assert_clean(stored.decode("utf-8", errors="replace"), secrets, "the SQLite records")


def test_the_openai_compatible_api_and_mcp_show_no_secret(setup: dict[str, Any], tmp_path: Path) -> None:
    """Chat completions (plain and streamed), responses and an MCP tool call of a pipeline whose model
    quotes the keys and whose HTTP node echoes its credential header."""
    from runtime.spec import ChatInterface, PipelineInterface, PipelineSpec

    secrets, port = setup["secrets"], free_port()
    spec = PipelineSpec.model_validate_json(setup["files"]["leaky"].read_text())
    spec.interface = PipelineInterface(chat=ChatInterface(input="query", output="out_chat", stream_from="chat"))
    spec.nodes = [n for n in spec.nodes if n.id != "fail"]  # one failing node is covered above
    spec.edges = [e for e in spec.edges if e.target.node != "fail"]
    chatty = tmp_path / "chatty.json"
    chatty.write_text(spec.model_dump_json())
    proc = subprocess.Popen([PATCHWIRE, "serve", str(chatty), "--mcp", "--port", str(port),
                             "--plugin", setup["plugin"], "--plugin", "runtime.testing.components"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=setup["env"], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    chat = {"model": "patchwire/leaky", "messages": [{"role": "user", "content": "hi"}]}
    mcp_headers = {"Accept": "application/json, text/event-stream"}
    try:
        wait_until_answers(proc, f"{base}/v1/models", timeout_s=120)
        answers = []
        for path, body in (("/v1/chat/completions", chat), ("/v1/chat/completions", {**chat, "stream": True}),
                           ("/v1/responses", {"model": "patchwire/leaky", "input": "hi"})):
            setup["fake"].script(quoting_reply())
            answers.append(httpx.post(base + path, json=body, timeout=120))
        setup["fake"].script(quoting_reply())
        answers.append(httpx.post(f"{base}/mcp", headers=mcp_headers, timeout=120, json={
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "leaky", "arguments": {"query": "hi"}}}))
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "***" in answer.text, answer.text  # the reply (or the echoed header) arrived, masked
        assert_clean(answer.text, secrets, f"the answer of {answer.request.url.path}")
    assert json.loads(answers[0].text)["choices"][0]["message"]["content"] == "the keys are *** and *** ok"
    assert "Bearer ***" in answers[3].text  # the MCP tool result holds every output, the echoed header too
    assert_clean(stdout + stderr, secrets, "serve's logs")


def test_export_and_export_python_write_no_secret(setup: dict[str, Any], tmp_path: Path) -> None:
    secrets = setup["secrets"]
    for spec in ("pasted", "leaky"):
        proc = patchwire(setup, "export", str(setup["files"][spec]))
        assert proc.returncode == 0, proc.stderr
        assert_clean(proc.stdout + proc.stderr, secrets, f"`patchwire export` of {spec}")
    assert "pasted by mistake: ${secret:GITHUB_TOKEN}" in proc.stdout  # the leaky spec, exported last
    module = tmp_path / "pasted.py"
    proc = patchwire(setup, "export-python", str(setup["files"]["pasted"]), "-o", str(module))
    assert proc.returncode == 0, proc.stderr
    code = module.read_text()
    assert_clean(code + proc.stderr, secrets, "`patchwire export-python` output")
    done = subprocess.run([sys.executable, str(module), "--input", "query=hi"], capture_output=True, text=True,
                          timeout=180, env=setup["env"], cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["out"].startswith("${secret:OPENAI_API_KEY} hi OPENAI_API_KEY=*** ")
    assert_clean(done.stdout + done.stderr, secrets, "the exported module's run")


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
