"""What serve says about its pipelines (HTTP, OpenAI models, MCP tools) never holds a secret value: it is
masked as `patchwire export` masks it, in the spec and in every description and schema built from it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from runtime.serving.app import create_app
from runtime.serving.mcp_server import build_server
from runtime.serving.served import compile_pipelines
from runtime.testing.components import sample_registry
from runtime.testing.specs import make_spec

SECRET = "sk-canary-serve-describe-41c7"
REF = "${secret:OPENAI_API_KEY}"


def pasted():
    spec = make_spec({"q": ("io.input", {"name": "query", "description": f"ask with {SECRET}",
                                         "default": f"hello {SECRET}"}),
                      "s0": ("demo.echo", {"prefix": f"{SECRET}:"}), "out": ("io.output", {})},
                     [("q", "value", "s0", "value"), ("s0", "value", "out", "value")], name="echo")
    return spec.model_copy(update={"description": f"answers with {SECRET}"})


def test_the_pipeline_list_and_detail_hold_no_secret_value(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    client = TestClient(create_app([pasted()], sample_registry(), api_token="", allowed_hosts=("testserver",)))
    listed, detail = client.get("/v1/pipelines"), client.get("/v1/pipelines/echo")
    models = client.get("/v1/models")
    for response in (listed, detail, models):
        assert response.status_code == 200 and SECRET not in response.text
    assert listed.json()["pipelines"][0]["description"] == f"answers with {REF}"
    schema = detail.json()["inputs_schema"]["properties"]["query"]
    assert schema == {"type": "string", "description": f"ask with {REF}", "default": f"hello {REF}"}
    assert detail.json()["spec"]["nodes"][1]["params"]["prefix"] == f"{REF}:"


def test_mcp_tools_describe_the_pipeline_without_secret_values(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    pipelines = compile_pipelines([pasted()], sample_registry())
    build_server(pipelines, runner=None)  # the tools as the server lists them (below: each one's `Tool`)
    tool = _listed_tools(pipelines)[0]
    text = json.dumps(tool.model_dump(mode="json"))
    assert SECRET not in text
    assert tool.description == f"answers with {REF}"
    assert tool.input_schema["properties"]["query"]["default"] == f"hello {REF}"


def _listed_tools(pipelines):
    from runtime.serving.mcp_server import _tool, tool_name

    return [_tool(tool_name(name), p) for name, p in pipelines.items()]
