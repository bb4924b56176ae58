"""The Export button's download: the spec as `patchwire export` writes it, never a secret value."""

from __future__ import annotations

import json

from editor.spec_download import spec_download
from runtime import PipelineSpec
from runtime.export import export_spec

SECRET = "sk-canary-editor-export-8a1c"


def _pasted() -> PipelineSpec:
    return PipelineSpec.model_validate({
        "name": "pasted", "description": f"uses {SECRET}",
        "nodes": [{"id": "q", "component": "io.input", "params": {"name": "query"}},
                  {"id": "t", "component": "text.template", "label": f"key {SECRET}",
                   "params": {"template": f"{SECRET} {{{{ query }}}}"}},
                  {"id": "h", "component": "action.http", "params": {"url": "http://admin:hunter2hunter2@10.0.0.5/"}},
                  {"id": "out", "component": "io.output"}],
        "edges": [{"source": {"node": "q", "port": "value"}, "target": {"node": "t", "port": "query"}},
                  {"source": {"node": "t", "port": "text"}, "target": {"node": "out", "port": "value"}}],
        "layout": {"note:1": {"kind": "note", "x": 0, "y": 0, "text": f"the key is {SECRET}"}}})


def test_the_download_holds_references_not_secret_values_and_says_what_it_changed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    spec = _pasted()
    text, warnings = spec_download(spec)
    assert SECRET not in text and "hunter2" not in text
    document = json.loads(text)
    assert document["description"] == "uses ${secret:OPENAI_API_KEY}"
    assert document["nodes"][2]["params"]["url"] == "http://<redacted>@10.0.0.5/"
    assert document["layout"]["note:1"]["text"] == "the key is ${secret:OPENAI_API_KEY}"
    assert len(warnings) == 5 and all("secret" in w or "credentials" in w for w in warnings)
    assert text.encode() == export_spec(spec, "json").data  # byte for byte what the CLI writes


def test_without_secrets_in_the_environment_only_url_credentials_are_removed(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    text, warnings = spec_download(_pasted())
    assert warnings == ["Node `h` param `url` held credentials in a URL (`user:password@`); exported as "
                        "`<redacted>@`. Send credentials in a header that references a secret, e.g. "
                        "`${secret:NAME}`."]
    assert json.loads(text)["description"] == f"uses {SECRET}"  # not a secret unless the environment holds it
