"""Sticky notes in a spec's `layout`: old files load as before, notes survive export/import, the runtime ignores them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from runtime import InvalidSpec, run, spec_json_schema, validate
from runtime.export import export_spec, import_spec
from runtime.loading import parse_spec
from runtime.spec import PipelineSpec, Position, StickyNote
from runtime.testing.components import sample_registry
from runtime.testing.specs import chain_spec

NOTE = {"kind": "note", "x": -40.0, "y": -180.0, "width": 300.0, "height": 150.0,
        "text": "## Retrieval\n\n*Tune* `top_k` before the prompt.\n- one\n- two"}


def _with_note(spec: PipelineSpec) -> PipelineSpec:
    data = json.loads(spec.model_dump_json())
    data["layout"] = {"query": {"x": 0, "y": 0}, "n0": {"x": 260, "y": 0}, "note:1": NOTE}
    return PipelineSpec.model_validate(data)


def test_a_layout_file_from_before_notes_loads_and_exports_exactly_as_before():
    old = {"name": "old", "nodes": [{"id": "a", "component": "demo.echo", "params": {}}],
           "layout": {"a": {"x": 10.5, "y": 20}}}
    spec = parse_spec(json.dumps(old))
    entry = spec.layout["a"]
    assert type(entry) is Position and (entry.x, entry.y) == (10.5, 20.0)
    exported = json.loads(export_spec(spec, "json").data)
    assert exported["layout"] == {"a": {"x": 10.5, "y": 20.0}}  # no `kind`, nothing added
    jsonschema.Draft202012Validator(spec_json_schema()).validate(old)


def test_notes_survive_export_and_import_byte_for_byte():
    spec = _with_note(chain_spec(1))
    note = spec.layout["note:1"]
    assert isinstance(note, StickyNote) and note.text.startswith("## Retrieval")
    for fmt in ("json", "yaml"):
        data = export_spec(spec, fmt).data
        back = import_spec(data, fmt=fmt, registry=sample_registry())
        assert back == spec
        assert export_spec(back, fmt).data == data
    document = json.loads(export_spec(spec, "json").data)
    assert document["layout"]["note:1"] == NOTE
    assert list(jsonschema.Draft202012Validator(spec_json_schema()).iter_errors(document)) == []


async def test_validation_and_the_executor_never_see_notes():
    plain = chain_spec(1)
    noted = _with_note(plain)
    assert validate(noted, sample_registry()) == validate(plain, sample_registry()) == []
    result = await run(noted, {"query": "hi"}, registry=sample_registry())
    expected = await run(plain, {"query": "hi"}, registry=sample_registry())
    assert result.status == "succeeded" and result.outputs == expected.outputs
    assert set(result.nodes) == {n.id for n in plain.nodes}


@pytest.mark.parametrize(("key", "entry", "message"), [
    ("a", NOTE, "layout entry `a` is a sticky note"),
    ("note:1", {"x": 0, "y": 0}, "layout entry `note:1` is a position, not a sticky note"),
    ("note:1", {**NOTE, "colour": "red"}, "colour"),
])
def test_a_misplaced_or_malformed_note_is_a_clear_error(key, entry, message):
    with pytest.raises(ValidationError, match=message):
        PipelineSpec.model_validate({"name": "x", "layout": {key: entry}})


def test_a_bad_note_in_a_spec_file_is_reported_at_its_field():
    raw = {"name": "x", "layout": {"note:1": {**NOTE, "width": -5}}}
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(json.dumps(raw))
    [issue] = caught.value.issues
    assert issue.path == "layout.note:1.width"
    assert issue.message == "Spec field `layout.note:1.width` is invalid: Input should be greater than 0 (got -5)."


def test_a_secret_value_pasted_into_a_note_is_exported_as_a_reference(monkeypatch):
    secret = "sk-canary-note-3b7d1e9f"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    data = json.loads(_with_note(chain_spec(1)).model_dump_json())
    data["layout"]["note:1"]["text"] = f"the key: {secret}, and http://admin:hunter2hunter2@10.0.0.5/ too"
    result = export_spec(PipelineSpec.model_validate(data))
    exported = json.loads(result.data)["layout"]["note:1"]
    assert exported["text"] == "the key: ${secret:OPENAI_API_KEY}, and http://<redacted>@10.0.0.5/ too"
    assert secret not in result.data.decode() and "hunter2" not in result.data.decode()
    assert [w.split(" held ")[0] for w in result.warnings] == ["Sticky note `note:1`"] * 2
