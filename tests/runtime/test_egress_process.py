"""`patchwire serve`, audited over its whole life: it makes no connection that no pipeline asked for.

The same audit events as `runtime.egress` (`socket.getaddrinfo`, `socket.connect`), hooked by a
`sitecustomize` module before anything of Patchwire, FastAPI or uvicorn is imported, so telemetry or an
update check at import time, at startup or at shutdown would be caught too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.servers import free_port
from runtime.testing.specs import make_spec
from tests.infra.services import wait_until_answers

ROOT = Path(__file__).parents[2]

SITECUSTOMIZE = '''
import json, os, sys
_LOG = open(os.environ["EGRESS_AUDIT_LOG"], "a", buffering=1)
def _hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        _LOG.write(json.dumps({"kind": "connect", "host": str(args[1][0]), "port": args[1][1]}) + "\\n")
    elif event == "socket.getaddrinfo":
        _LOG.write(json.dumps({"kind": "dns", "host": str(args[0]), "port": str(args[1])}) + "\\n")
sys.addaudithook(_hook)
'''


def audited_env(tmp_path: Path, log: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {**os.environ, "EGRESS_AUDIT_LOG": str(log), "PYTHONPATH": f"{site}{os.pathsep}{ROOT}",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'runs.db'}"}
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    return env


def test_serve_makes_only_the_connections_its_pipelines_ask_for(tmp_path: Path) -> None:
    log = tmp_path / "egress.jsonl"
    log.touch()
    port = free_port()
    with FakeOpenAI() as model:
        model_port = int(model.base_url.rsplit(":", 1)[1].split("/")[0])
        echo = make_spec({"query": ("io.input", {}), "s0": ("demo.echo", {"prefix": "A:"}),
                          "out": ("io.output", {})},
                         [("query", "value", "s0", "value"), ("s0", "value", "out", "value")], name="echo")
        chat = make_spec({"query": ("io.input", {}), "chat": ("llm.chat", {"model": "openai/gpt-4o-mini",
                                                                         "api_base": model.base_url}),
                          "out": ("io.output", {})},
                         [("query", "value", "chat", "prompt"), ("chat", "text", "out", "value")], name="chat")
        files = []
        for spec in (echo, chat):
            files.append(tmp_path / f"{spec.name}.json")
            files[-1].write_text(spec.model_dump_json())
        env = {**audited_env(tmp_path, log), "OPENAI_API_KEY": "sk-test", "PATCHWIRE_MODEL_BASES": model.base_url}
        proc = subprocess.Popen([sys.executable, "-m", "runtime.cli", "serve", *map(str, files), "--port", str(port),
                                 "--no-access-log", "--plugin", "runtime.testing.components"],
                                env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_answers(proc, f"{base}/healthz")
            first = httpx.post(f"{base}/v1/pipelines/echo/run", json={"inputs": {"query": "x"}}, timeout=60)
            second = httpx.post(f"{base}/v1/pipelines/chat/run", json={"inputs": {"query": "hi"}}, timeout=60)
        finally:
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=20)
    assert first.status_code == 200 and first.json()["egress"] == [], first.text
    assert second.status_code == 200, (second.text, stderr)
    asked = second.json()["egress"]
    assert asked and {(e["host"], e["port"], e["node"]) for e in asked} == {("127.0.0.1", model_port, "chat")}
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    listening = {("dns", "127.0.0.1", str(port))}  # uvicorn resolving its own bind address
    stray = [e for e in seen if (e["kind"], e["host"], str(e["port"])) not in listening
             and not (e["host"] == "127.0.0.1" and str(e["port"]) == str(model_port))]
    assert stray == [], f"connections no pipeline asked for: {stray}"
    assert any(e["kind"] == "connect" and e["port"] == model_port for e in seen), "the audit hook did not see the run"
