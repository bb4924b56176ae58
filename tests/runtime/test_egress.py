"""The egress audit: every DNS lookup and connect of a run, attributed to the node that made it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from components_catalog.llm.chat import ChatCompletion
from components_catalog.llm.providers import load_litellm
from runtime import Component, RunContext, compile, component
from runtime.consumers import run_with_consumers
from runtime.egress import summary_line
from runtime.testing.components import sample_registry
from runtime.testing.fake_openai import FakeOpenAI
from runtime.testing.specs import make_spec

ROOT = Path(__file__).parents[2]
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))


class PortParams(BaseModel):
    port: int = Field(description="A loopback port to connect to")
    way: str = Field(default="thread", description="thread: ctx.to_thread; stray: a bare thread")


class Text(BaseModel):
    value: str = ""


def _connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


@component(id="test.dial", version=1, title="Dial", category="Test")
class Dial(Component):
    """Connect to a loopback port, from `ctx.to_thread` or from a thread that carries no context."""

    params: PortParams

    async def run(self, inputs: Text, ctx: RunContext) -> Text:
        if self.params.way == "thread":
            await ctx.to_thread(_connect, self.params.port)
        else:
            stray = threading.Thread(target=_connect, args=(self.params.port,))  # a new thread: empty context
            stray.start()
            await ctx.to_thread(stray.join)
        return Text(value="dialled")


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def registry() -> Any:
    reg = sample_registry()
    reg.add(Dial)
    reg.add(ChatCompletion)
    return reg


async def run_spec(spec: Any, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await run_with_consumers(compile(spec, registry()), inputs or {}, [])
    return result.to_json()


async def test_a_connect_from_ctx_to_thread_is_attributed_to_its_node(listener: int) -> None:
    spec = make_spec({"dial": ("test.dial", {"port": listener}), "quiet": ("demo.constant", {"value": "x"})}, [])
    out = await run_spec(spec)
    connects = [e for e in out["egress"] if e["kind"] == "connect"]
    assert [(e["host"], e["port"], e["node"]) for e in connects] == [("127.0.0.1", listener, "dial")]
    assert out["nodes"]["dial"]["egress"] == [e for e in out["egress"] if e["node"] == "dial"]
    assert out["nodes"]["quiet"]["egress"] == []
    assert isinstance(connects[0]["ts"], float)


async def test_a_connect_outside_any_node_is_unattributed(listener: int) -> None:
    spec = make_spec({"dial": ("test.dial", {"port": listener, "way": "stray"})}, [])
    out = await run_spec(spec)
    connects = [e for e in out["egress"] if e["kind"] == "connect"]
    assert [(e["port"], e["node"]) for e in connects] == [(listener, None)]
    assert out["nodes"]["dial"]["egress"] == []
    assert summary_line(out["egress"]).startswith("Outbound calls: 1, 1 outside any node (unattributed)")


async def test_nothing_contacted_gives_empty_lists() -> None:
    out = await run_spec(make_spec({"c": ("demo.constant", {"value": "x"})}, []))
    assert out["egress"] == [] and out["nodes"]["c"]["egress"] == []
    assert summary_line([]) == "Outbound calls: 0, all made by nodes"


async def test_a_model_call_to_the_fake_server_is_recorded_against_the_model_node(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    load_litellm()
    with FakeOpenAI() as srv:
        monkeypatch.setenv("PATCHWIRE_MODEL_BASES", srv.base_url)
        port = int(srv.base_url.rsplit(":", 1)[1].split("/")[0])
        spec = make_spec({"q": ("io.input", {}), "chat": ("llm.chat", {"model": "openai/gpt-4o-mini",
                                                                      "api_base": srv.base_url}),
                          "out": ("io.output", {})},
                         [("q", "value", "chat", "prompt"), ("chat", "text", "out", "value")])
        out = await run_spec(spec, {"q": "hello"})
        served = len(srv.requests)
    assert out["status"] == "succeeded" and served == 1
    assert out["egress"], "the model call was not audited"
    assert {(e["host"], e["port"], e["node"]) for e in out["egress"]} == {("127.0.0.1", port, "chat")}
    assert [e["kind"] for e in out["egress"]].count("connect") == served
    assert out["nodes"]["chat"]["egress"] == out["egress"]
    line = summary_line(out["egress"])
    assert line.startswith("Outbound calls: 1, all made by nodes") and f"127.0.0.1:{port}" in line


def test_the_offline_rag_template_makes_no_outbound_connection_at_all() -> None:
    """Loopback included: the offline template reads its local index and runs the local model in-process."""
    from components_catalog.demo_index import index_demo_kb

    index_demo_kb()
    proc = subprocess.run([PATCHWIRE, "run", "templates/rag_review.json", "--no-record", "--input",
                           "query=How does Patchwire run independent branches?", "--json"],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "succeeded"
    assert out["egress"] == []
    assert all(node["egress"] == [] for node in out["nodes"].values())


@pytest.mark.usefixtures("fresh_database")
async def test_the_run_record_stores_the_outbound_calls(listener: int) -> None:
    from runtime.consumers import default_consumers, flush_records
    from runtime.store.runs import get_run

    spec = make_spec({"dial": ("test.dial", {"port": listener})}, [])
    result = await run_with_consumers(compile(spec, registry()), {}, default_consumers("api"))
    flush_records()
    stored = get_run(result.run_id)
    assert stored is not None
    assert stored[0].egress == result.to_json()["egress"] and any(e["kind"] == "connect" for e in stored[0].egress)
