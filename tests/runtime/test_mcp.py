"""Pipelines as MCP tools, driven by the official `mcp` client: `patchwire mcp` over stdio (a real subprocess)
and `patchwire serve --mcp` over Streamable HTTP (a real uvicorn server), behind serve's own guard."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from runtime.serving.app import ServeConfigError, create_app
from runtime.serving.records import record_consumers_for
from runtime.testing.components import sample_registry
from runtime.testing.servers import serve_app
from runtime.testing.specs import make_spec

TOKEN = "mcp-token-7a1d3f9c5e2b8d64"
ROOT = Path(__file__).resolve().parents[2]


def echo() -> Any:
    spec = make_spec({"q": ("io.input", {"name": "query", "description": "What to echo"}),
                      "n": ("io.input", {"name": "times", "type": "integer", "default": 1}),
                      "e": ("demo.echo", {"prefix": "E:"}), "out": ("io.output", {})},
                     [("q", "value", "e", "value"), ("e", "value", "out", "value")], name="echo")
    spec.description = "Echo the query with a prefix."
    return spec


def broken() -> Any:
    return make_spec({"q": ("io.input", {"name": "query"}), "s": ("demo.raise", {"message": "the model is down"}),
                      "out": ("io.output", {})}, [("q", "value", "s", "value"), ("s", "value", "out", "value")],
                     name="broken")


async def exercise(client: Client) -> None:
    """What every transport must do: list the tools, call one with progress, see a failing one's error."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert list(tools) == ["echo", "broken"]  # exactly the specs given
    assert tools["echo"].description == "Echo the query with a prefix."
    assert tools["echo"].input_schema == {
        "type": "object", "additionalProperties": False, "required": ["query"],
        "properties": {"query": {"type": "string", "description": "What to echo"},
                       "times": {"type": "integer", "default": 1}}}
    assert tools["echo"].output_schema["properties"]["out"]["type"] == "string"
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await client.call_tool("echo", {"query": "hi"}, progress_callback=on_progress)
    assert not result.is_error and result.structured_content == {"out": "E:hi"}
    assert result.content[0].text == '{"out": "E:hi"}'
    assert [(progress, total) for progress, total, _ in notes] == [(step, 8) for step in range(1, 9)]
    messages = [message for _, _, message in notes]
    for node in ("q", "n", "e", "out"):  # a notification as each node starts and as it ends, in that order
        assert messages.index(f"running `{node}`") < messages.index(f"`{node}` finished")
    failed = await client.call_tool("broken", {"query": "hi"})
    assert failed.is_error
    assert failed.content[0].text.startswith("Pipeline `broken` failed at node `s` (`demo.raise`): the model is "
                                             "down (run ")
    wrong = await client.call_tool("echo", {"qeury": "hi"})
    assert wrong.is_error and wrong.content[0].text == (
        "Invalid arguments for `echo`: Input `query` is required: add `query` to the tool's arguments. Unknown "
        "input `qeury`; this pipeline's inputs: `query`, `times`.")
    with pytest.raises(MCPError, match="Unknown tool `rm`. Tools: `echo`, `broken`."):
        await client.call_tool("rm", {})


def test_stdio_server_lists_runs_and_reports_failures(tmp_path: Path) -> None:
    files = []
    for spec in (echo(), broken()):
        files.append(tmp_path / f"{spec.name}.json")
        files[-1].write_text(spec.model_dump_json())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'runs.db'}"}
    params = StdioServerParameters(command=sys.executable, env=env, cwd=str(tmp_path), args=[
        "-m", "runtime.cli", "mcp", *map(str, files), "--plugin", "runtime.testing.components"])

    async def main() -> None:
        async with Client(params) as client:
            await exercise(client)

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_streamable_http_endpoint_with_the_token_and_run_records(fresh_database) -> None:
    app = create_app([echo(), broken()], sample_registry(), api_token=TOKEN, mcp=True,
                     consumers_for=record_consumers_for(True))
    with serve_app(app) as url:
        async def main() -> None:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                await exercise(client)

        asyncio.run(asyncio.wait_for(main(), timeout=60))
        assert httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    from sqlmodel import select

    from runtime.store.db import session
    from runtime.store.recorder import RunRecorder
    from runtime.store.tables import RunRecord

    RunRecorder().flush()
    with session() as s:
        runs = list(s.exec(select(RunRecord)))
    assert {r.source for r in runs} == {"mcp"} and {r.pipeline_name for r in runs} >= {"echo", "broken"}


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def test_the_endpoint_refuses_a_missing_or_wrong_token() -> None:
    client = TestClient(create_app([echo()], sample_registry(), api_token=TOKEN, mcp=True))
    for headers in ({}, {"Authorization": "Bearer wrong-token-0000000000"}):
        response = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    with client:  # the lifespan runs the MCP session manager
        ok = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and '"serverInfo"' in ok.text


def test_the_endpoint_obeys_the_host_and_origin_rules_without_a_token() -> None:
    client = TestClient(create_app([echo()], sample_registry(), api_token="", allowed_hosts=("testserver",),
                                   mcp=True))
    host = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
    assert host.status_code == 400 and "not allowed here" in host.json()["detail"]
    origin = client.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example"})
    assert origin.status_code == 403
    sse = client.get("/mcp", headers={"Accept": "text/event-stream", "Sec-Fetch-Site": "cross-site"})
    assert sse.status_code == 403


def test_without_the_flag_there_is_no_mcp_endpoint() -> None:
    client = TestClient(create_app([echo()], sample_registry(), api_token="", allowed_hosts=("testserver",)))
    assert client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 404


def test_two_pipelines_with_the_same_tool_name_are_refused() -> None:
    first, second = echo(), echo()
    first.name, second.name = "my tool", "my_tool"
    with pytest.raises(ServeConfigError, match="Pipelines `my tool` and `my_tool` are both the MCP tool `my_tool`"):
        create_app([first, second], sample_registry(), api_token="", mcp=True)


def test_cli_serve_mcp_mounts_the_endpoint(tmp_path: Path) -> None:
    import subprocess
    import time

    from runtime.testing.servers import free_port

    spec_file = tmp_path / "echo.json"
    spec_file.write_text(echo().model_dump_json())
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PATCHWIRE_API_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "runtime.cli", "serve", str(spec_file), "--mcp", "--port",
                             str(port), "--no-record", "--no-access-log", "--plugin", "runtime.testing.components"],
                            env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)

        async def main() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("echo", {"query": "cli"})

        assert asyncio.run(asyncio.wait_for(main(), timeout=30)).structured_content == {"out": "E:cli"}
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert (f"OpenAI-compatible API at /v1 (models `patchwire/<name>`), MCP at http://127.0.0.1:{port}/mcp"
            in stderr)


def test_cli_mcp_refuses_duplicate_pipeline_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runtime.cli import main

    spec_file = tmp_path / "echo.json"
    spec_file.write_text(echo().model_dump_json())
    assert main(["mcp", str(spec_file), str(spec_file), "--plugin", "runtime.testing.components"]) == 2
    assert capsys.readouterr().err.startswith("error: Two specs are named `echo`; pipelines are served by their "
                                              "`name`.")
