"""The editor's script API returns specs as `patchwire export` writes them: no secret values."""

from __future__ import annotations

from starlette.testclient import TestClient

from editor import routes
from editor.api import api
from runtime.store import pipelines as store

SECRET = "sk-canary-editor-api-5e2d9b"


def _stored(name: str = "keys") -> str:
    spec = {"name": name, "description": f"uses {SECRET}",
            "nodes": [{"id": "q", "component": "io.input", "version": 1, "params": {"name": "query"}},
                      {"id": "t", "component": "text.template", "version": 1, "label": f"key {SECRET}",
                       "params": {"template": f"{SECRET} {{{{ query }}}}"}},
                      {"id": "h", "component": "action.http", "version": 1,
                       "params": {"url": "http://admin:hunter2hunter2@10.0.0.5/"}}],
            "edges": [], "layout": {"note:1": {"kind": "note", "x": 0, "y": 0, "text": f"the key is {SECRET}"}}}
    return store.create_pipeline(spec).id


def test_the_spec_route_masks_secret_values_as_export_does(fresh_database, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    pipeline_id = _stored()
    response = TestClient(api).get(routes.API_PIPELINE_SPEC.format(pipeline_id=pipeline_id))
    assert response.status_code == 200
    assert SECRET not in response.text and "hunter2" not in response.text
    spec = response.json()
    assert spec["description"] == "uses ${secret:OPENAI_API_KEY}"
    assert spec["nodes"][1]["params"]["template"] == "${secret:OPENAI_API_KEY} {{ query }}"
    assert spec["nodes"][1]["label"] == "key ${secret:OPENAI_API_KEY}"
    assert spec["nodes"][2]["params"]["url"] == "http://<redacted>@10.0.0.5/"
    assert spec["layout"]["note:1"]["text"] == "the key is ${secret:OPENAI_API_KEY}"
    assert store.get_pipeline(pipeline_id).spec["description"] == f"uses {SECRET}"  # the stored one is left as is


def test_the_pipeline_list_masks_a_secret_in_a_name(fresh_database, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    _stored(f"pasted {SECRET}")
    response = TestClient(api).get(routes.API_PIPELINES)
    assert response.status_code == 200 and SECRET not in response.text
    assert response.json()[0]["name"] == "pasted ${secret:OPENAI_API_KEY}"
