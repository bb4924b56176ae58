"""The editor, audited over its whole life: started as users start it, a page loaded, a pipeline run, stopped.
It makes no connection that no pipeline asked for (no telemetry, update check or font download).

Every Python process of the editor (the launcher's database step, `reflex run`, its server workers) loads a
`sitecustomize` module first, which hooks the audit events `socket.connect` and `socket.getaddrinfo` (the
ones `runtime.egress` uses) before Reflex, granian or Patchwire is imported, and writes each one to a file.
The browser's side is checked too: every request the page makes goes to the editor itself.
(`patchwire serve` has the same test: tests/runtime/test_egress_process.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from runtime.testing.fake_openai import FakeOpenAI

from . import runs, ui
from .conftest import Servers
from .test_editor_monitor import chat_spec, port_of

SITECUSTOMIZE = '''
import json, os, sys
_LOG = open(os.environ["EGRESS_AUDIT_LOG"], "a", buffering=1)
def _hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        entry = {"kind": "connect", "host": str(args[1][0]), "port": str(args[1][1])}
    elif event == "socket.getaddrinfo":
        entry = {"kind": "dns", "host": str(args[0]), "port": str(args[1])}
    else:
        return
    entry["process"] = " ".join(sys.argv[:3])
    _LOG.write(json.dumps(entry) + "\\n")
sys.addaudithook(_hook)
'''
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def audited_env(tmp_path: Path, log: Path, model: FakeOpenAI) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "EGRESS_AUDIT_LOG": str(log), "PATCHWIRE_MODEL_BASES": model.base_url,
            "OPENAI_API_KEY": "sk-test", "PATCHWIRE_WARMUP": "1"}  # the warm start is audited too


def stray(seen: list[dict[str, str]], editor_port: int, model_port: int) -> list[dict[str, str]]:
    """What no pipeline asked for: anything but the editor's own loopback port and the model the run called
    (the launcher checking that its server answers, the server resolving its bind address)."""
    asked = {str(editor_port), str(model_port)}
    return [e for e in seen if not (e["host"] in LOOPBACK and e["port"] in asked)]


def test_the_editor_makes_only_the_connections_its_pipelines_ask_for(servers: Servers, tmp_path: Path,
                                                                        page: Page) -> None:
    log = tmp_path / "egress.jsonl"
    log.touch()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    with FakeOpenAI() as model:
        server = servers.start("audited", audited_env(tmp_path, log, model))
        try:
            pipeline = runs.create_pipeline(server.data_dir, chat_spec(model))
            runs.open_pipeline(page, server.base, pipeline)
            run_id = runs.start_run(page, q="is anyone listening")
            runs.wait_run(page, "succeeded")
            runs.wait_stored(server.data_dir, run_id, "succeeded")
            ui.select_node(page, "chat")
            expect(page.get_by_test_id("node-network-chat")).to_contain_text(f"127.0.0.1:{port_of(model)}")
        finally:
            servers.close()  # stopped: whatever it does on shutdown is in the log too
        model_port = port_of(model)
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["kind"] == "connect" and e["port"] == str(model_port) for e in seen), "the hook did not see the run"
    assert stray(seen, server.port, model_port) == [], "connections no pipeline asked for"
    assert any(url.startswith(server.base + "/") for url in requests), "the page's requests were not seen"
    foreign = [url for url in requests if not url.startswith(server.base + "/")]
    assert foreign == [], f"the page loaded something from elsewhere: {foreign}"
