"""`patchwire serve` also serves each served pipeline's published version, as `<name>@published`: listed by
`GET /v1/models` and run by `model="patchwire/<name>@published"`, checked with the official `openai` SDK
against a real uvicorn server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from runtime.cli import main
from runtime.serving.app import CONFIG_ENV, app_from_env
from runtime.testing.servers import serve_app
from runtime.testing.specs import make_spec

SAMPLES = ["--plugin", "runtime.testing.components"]


def echo_spec(prefix: str) -> dict[str, Any]:
    spec = make_spec({"q": ("io.input", {"name": "query"}), "e": ("demo.echo", {"prefix": prefix}),
                      "out": ("io.output", {})}, [("q", "value", "e", "value"), ("e", "value", "out", "value")],
                     name="echo")
    return spec.model_dump(mode="json")


def working_copy(tmp_path: Path) -> Path:
    """The spec file being served: prefix `> `, while the published version says `!! `."""
    path = tmp_path / "echo.json"
    path.write_text(json.dumps(echo_spec("> ")))
    return path


def publish_loud(name: str = "echo") -> tuple[str, int]:
    """A saved pipeline `name` whose published version shouts; a later version stays unpublished."""
    from runtime.store.pipelines import create_pipeline, save_version
    from runtime.store.publish import publish_version

    pipeline = create_pipeline(echo_spec("> "), name=name)
    version = save_version(pipeline.id, "loud", echo_spec("!! "))
    publish_version(pipeline.id, version.id)
    save_version(pipeline.id, "later, unpublished", echo_spec("?? "))
    return pipeline.id, version.id


def serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """The app `patchwire serve ARGS` would run (uvicorn.run caught)."""
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.setdefault("app", app))
    assert main(["serve", *args, *SAMPLES]) == 0
    return served["app"]


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def ask(client: openai.OpenAI, model: str, text: str = "hi") -> str | None:
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return reply.choices[0].message.content


def test_models_list_the_published_version_and_chat_runs_it(tmp_path, fresh_database, monkeypatch, capsys):
    pipeline_id, version = publish_loud()
    app = serve(monkeypatch, str(working_copy(tmp_path)))
    assert "serving echo, echo@published on http://127.0.0.1:8080" in capsys.readouterr().err
    with serve_app(app) as url:
        client = sdk(url)
        models = {m.id: m for m in client.models.list()}
        assert list(models) == ["patchwire/echo", "patchwire/echo@published"]
        about = models["patchwire/echo@published"].model_extra["patchwire"]
        assert about == {"pipeline": "echo@published", "chat": True, "run_url": "/v1/pipelines/echo@published/run",
                         "published": {"pipeline_id": pipeline_id, "version": version}}
        assert "published" not in models["patchwire/echo"].model_extra["patchwire"]
        assert client.models.retrieve("patchwire/echo@published").id == "patchwire/echo@published"
        assert ask(client, "patchwire/echo@published") == "!! hi"
        assert ask(client, "patchwire/echo") == "> hi"
        answer = client.responses.create(model="patchwire/echo@published", input="there")
        assert answer.output_text == "!! there"
        run = httpx.post(f"{url}/v1/pipelines/echo@published/run", json={"inputs": {"query": "x"}})
        assert run.status_code == 200 and run.json()["outputs"]["out"] == "!! x"


def test_a_pipeline_without_a_published_version_names_why_in_the_404(tmp_path, fresh_database, monkeypatch):
    app = serve(monkeypatch, str(working_copy(tmp_path)))
    with serve_app(app) as url:
        client = sdk(url)
        assert [m.id for m in client.models.list()] == ["patchwire/echo"]
        with pytest.raises(openai.NotFoundError) as caught:
            ask(client, "patchwire/echo@published")
        assert caught.value.body["message"] == (
            "The model `patchwire/echo@published` does not exist or you do not have access to it (`echo` has no "
            "published version in this service: publish one with `patchwire publish`, then restart the service). "
            "Served models: `patchwire/echo`.")
        missing = httpx.post(f"{url}/v1/pipelines/echo@published/run", json={"inputs": {"query": "x"}})
        assert missing.status_code == 404 and "`echo` has no published version in this service" in \
            missing.json()["detail"]


def test_serving_the_published_version_by_name_also_lists_it_as_published(tmp_path, fresh_database, monkeypatch):
    pipeline_id, _ = publish_loud()
    app = serve(monkeypatch, "--published", pipeline_id, "--no-record")
    with serve_app(app) as url:
        client = sdk(url)
        assert [m.id for m in client.models.list()] == ["patchwire/echo", "patchwire/echo@published"]
        assert ask(client, "patchwire/echo") == ask(client, "patchwire/echo@published") == "!! hi"


def test_without_the_database_nothing_is_looked_up(tmp_path, fresh_database, monkeypatch):
    publish_loud()
    app = serve(monkeypatch, str(working_copy(tmp_path)), "--no-record")
    with serve_app(app) as url:
        assert [m.id for m in sdk(url).models.list()] == ["patchwire/echo"]


def test_published_versions_that_cannot_be_served_are_named_at_start_up(tmp_path, fresh_database, monkeypatch,
                                                                        capsys):
    from runtime.store.pipelines import create_pipeline, save_version
    from runtime.store.publish import publish_version

    first, _ = publish_loud()
    second, _ = publish_loud()
    broken = create_pipeline({**echo_spec("> "), "name": "other"}, name="other")
    bad = {**echo_spec("> "), "name": "other",
           "nodes": [dict(n, component="demo.gone") if n["id"] == "e" else n for n in echo_spec("> ")["nodes"]]}
    bad_version = save_version(broken.id, "uses a component that is gone", bad)
    publish_version(broken.id, bad_version.id)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**echo_spec("> "), "name": "other"}))
    app = serve(monkeypatch, str(working_copy(tmp_path)), str(other))
    err = capsys.readouterr().err
    ids = ", ".join(sorted([first, second]))
    assert (f"note: `echo@published` is not served: 2 saved pipelines named `echo` have a published version "
            f"({ids}); rename all but one.") in err
    assert (f"note: `other@published` is not served: published version #{bad_version.id} of `other` ({broken.id}) "
            "cannot run: ") in err and "demo.gone" in err
    with serve_app(app) as url:
        assert [m.id for m in sdk(url).models.list()] == ["patchwire/echo", "patchwire/other"]


def test_worker_processes_look_the_published_version_up_too(tmp_path, fresh_database, monkeypatch):
    publish_loud()
    monkeypatch.setenv(CONFIG_ENV, json.dumps({"specs": [str(working_copy(tmp_path))], "record": False,
                                               "published": True, "plugins": ["runtime.testing.components"]}))
    with serve_app(app_from_env()) as url:
        assert ask(sdk(url), "patchwire/echo@published") == "!! hi"


def test_mcp_tools_stay_the_specs_given(tmp_path, fresh_database, monkeypatch):
    import asyncio

    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    publish_loud()
    app = serve(monkeypatch, str(working_copy(tmp_path)), "--mcp")

    async def tools(url: str) -> list[str]:
        async with httpx2.AsyncClient(timeout=30) as http, \
                Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    with serve_app(app) as url:
        assert asyncio.run(asyncio.wait_for(tools(url), timeout=60)) == ["echo"]
        assert [m["id"] for m in httpx.get(f"{url}/v1/models").json()["data"]] == ["patchwire/echo",
                                                                                 "patchwire/echo@published"]


def test_the_published_ids_are_behind_the_same_token(tmp_path, fresh_database, monkeypatch):
    publish_loud()
    monkeypatch.setenv("PATCHWIRE_API_TOKEN", "s3cret-token-long-enough-for-the-guard-0123456789")
    app = serve(monkeypatch, str(working_copy(tmp_path)))
    with serve_app(app) as url:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            run = httpx.post(f"{url}/v1/pipelines/echo@published/run", json={"inputs": {"query": "x"}},
                             headers=headers)
            chat = httpx.post(f"{url}/v1/chat/completions", headers=headers, json={
                "model": "patchwire/echo@published", "messages": [{"role": "user", "content": "hi"}]})
            assert (run.status_code, chat.status_code) == (401, 401), headers
        good = httpx.post(f"{url}/v1/pipelines/echo@published/run", json={"inputs": {"query": "x"}},
                          headers={"Authorization": "Bearer s3cret-token-long-enough-for-the-guard-0123456789"})
        assert good.status_code == 200 and good.json()["outputs"]["out"] == "!! x"
