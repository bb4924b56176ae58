"""Retrieval against a real Chroma server (`chroma run` on a loopback port): the RAG template, indexing,
and what a user sees when the server is down, never answers, or goes away while `patchwire serve` runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.testing.specs import make_spec
from tests.infra.fixtures import start_chroma
from tests.infra.services import free_port, port_open

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
QUERY = "How does Patchwire run independent branches?"


def env_for(port: int | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
    if port is not None:
        env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port))
    return {**env, **extra}


def cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "patchwire"), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def index_demo(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "components_catalog.demo_index"], capture_output=True, text=True,
                          timeout=180, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def rag(env: dict[str, str]) -> dict:
    done = cli("run", "templates/rag_review.json", "--input", f"query={QUERY}", "--json", env=env)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def indexed_server(chroma_server):
    index_demo(env_for(chroma_server.port))
    return chroma_server


def test_the_rag_template_gives_the_same_answer_from_a_server_as_from_embedded_chroma(indexed_server, tmp_path):
    served = rag(env_for(indexed_server.port))
    embedded_env = env_for(None, PATCHWIRE_DATA_DIR=str(tmp_path / "embedded"))
    index_demo(embedded_env)
    embedded = rag(embedded_env)
    assert served["status"] == embedded["status"] == "succeeded"
    docs = [(d["id"], round(d["score"], 5)) for d in served["nodes"]["retrieve"]["outputs"]["documents"]]
    assert docs and docs == [(d["id"], round(d["score"], 5))
                             for d in embedded["nodes"]["retrieve"]["outputs"]["documents"]]
    assert served["outputs"] == embedded["outputs"]


def test_indexing_into_the_server_then_retrieving_what_was_indexed(chroma_server, tmp_path: Path):
    index, find = tmp_path / "index.json", tmp_path / "find.json"
    index.write_text(make_spec({
        "texts": ("io.input", {"name": "texts", "type": "json"}),
        "index": ("retrieval.chroma_index", {"collection": "server-notes"}), "chunks": ("io.output", {}),
    }, [("texts", "value", "index", "texts"), ("index", "chunks", "chunks", "value")], name="index").model_dump_json())
    find.write_text(make_spec({
        "q": ("io.input", {"name": "q"}), "find": ("retrieval.chroma", {"collection": "server-notes", "top_k": 1}),
        "hit": ("io.output", {}),
    }, [("q", "value", "find", "query"), ("find", "context", "hit", "value")], name="find").model_dump_json())
    texts = json.dumps(["Otters hold hands while they sleep.", "Basalt is a volcanic rock."])
    indexed = cli("run", str(index), "--input", f"texts={texts}", "--json", env=env_for(chroma_server.port))
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    assert json.loads(indexed.stdout)["outputs"] == {"chunks": 2}
    found = cli("run", str(find), "--input", "q=sleeping otters", "--json", env=env_for(chroma_server.port))
    assert found.returncode == 0, found.stdout + found.stderr
    assert "Otters hold hands" in json.loads(found.stdout)["outputs"]["hit"]
    listed = httpx.get(f"http://127.0.0.1:{chroma_server.port}/api/v2/tenants/default_tenant/databases/"
                       "default_database/collections", timeout=10).json()
    assert "server-notes" in [c["name"] for c in listed]


def test_a_server_that_is_down_is_named_with_the_fix(tmp_path: Path):
    port = free_port()
    done = cli("run", "templates/rag_review.json", "--input", f"query={QUERY}", env=env_for(port), timeout=120)
    assert done.returncode == 1
    assert (f"Cannot reach the Chroma server at 127.0.0.1:{port} (") in done.stderr
    assert "Check CHROMA_HOST and CHROMA_PORT, or unset both to use the embedded Chroma instead." in done.stderr


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_fails_the_node_and_the_process_exits(silent_server: int, tmp_path: Path):
    spec = json.loads((ROOT / "templates" / "rag_review.json").read_text())
    for node in spec["nodes"]:
        if node["id"] == "retrieve":
            node["policy"] = {"timeout_s": 3}
    path = tmp_path / "rag_timeout.json"
    path.write_text(json.dumps(spec))
    t0 = time.monotonic()
    done = cli("run", str(path), "--input", f"query={QUERY}", "--json",
               env=env_for(silent_server, PATCHWIRE_CHROMA_TIMEOUT_S="4"), timeout=90)
    elapsed = time.monotonic() - t0
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["nodes"]["retrieve"]["status"] == "failed"
    assert "timed out after 3 s" in result["nodes"]["retrieve"]["error"]["message"]
    assert elapsed < 60, f"the process took {elapsed:.0f} s to exit after the node timed out"


def test_a_server_that_goes_away_while_serving_gets_a_clear_error(tmp_path: Path):
    chroma = start_chroma(tmp_path / "chroma")
    serve = None
    try:
        env = env_for(chroma.port, PATCHWIRE_DATA_DIR=str(tmp_path / "data"))
        index_demo(env)
        port = free_port()
        serve = subprocess.Popen([str(BIN / "patchwire"), "serve", "templates/rag_review.json", "--port", str(port),
                                  "--no-record", "--no-access-log"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while not port_open(port):
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/v1/pipelines/rag-review/run"
        body = {"inputs": {"query": QUERY}}
        assert httpx.post(url, json=body, timeout=120).status_code == 200
        chroma.stop()
        down = httpx.post(url, json=body, timeout=120)
        assert down.status_code == 500
        error = down.json()["nodes"]["retrieve"]["error"]
        assert error["type"] == "RetryableError"
        assert error["message"].startswith(f"Cannot reach the Chroma server at 127.0.0.1:{chroma.port} (")
        assert "ConnectError" in error["message"] and "Is the server running and answering?" in error["message"]
    finally:
        chroma.stop()
        if serve is not None:
            serve.terminate()
            serve.wait(15)


def test_every_request_to_the_server_has_a_timeout(chroma_server, monkeypatch):
    from components_catalog.retrieval import chroma_client as cc

    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma_server.port))
    monkeypatch.setenv("PATCHWIRE_CHROMA_TIMEOUT_S", "7")
    client = cc._new_client(cc.place())
    timeout = client._server._session.timeout  # chromadb's own session: None unless we bound it
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (5.0, 7.0, 7.0, 7.0)
    assert client.heartbeat() > 0


@pytest.mark.parametrize("value", ["soon", "0", "-3"])
def test_a_bad_timeout_setting_is_named(value: str, monkeypatch):
    from components_catalog.retrieval import chroma_client as cc

    monkeypatch.setenv("PATCHWIRE_CHROMA_TIMEOUT_S", value)
    with pytest.raises(ValueError, match=f"PATCHWIRE_CHROMA_TIMEOUT_S must be .*, got '{value}'"):
        cc.http_timeout()
