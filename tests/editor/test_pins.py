"""Pinned outputs live with the editor's pipeline records, never in the spec: exports have no trace of them."""

from __future__ import annotations

import json

import pytest

from editor import pins
from editor.graph import spec_to_dict
from runtime import PipelineSpec
from runtime.store import pipelines as store

pytestmark = pytest.mark.usefixtures("database")  # SQLite and PostgreSQL

SPEC = {"schema_version": 1, "name": "p", "nodes": [{"id": "gen", "component": "demo.echo", "version": 1}], "edges": []}
SECRET_MOCK = "a mocked reply that must never leave the editor"


def test_pins_are_stored_per_pipeline_and_node_and_can_be_removed():
    a, b = store.create_pipeline(SPEC).id, store.create_pipeline(SPEC).id
    pins.set_pin(a, "gen", {"value": "one"}, "typed")
    pins.set_pin(a, "gen", {"value": "two"}, "run 1234")
    assert {k: (v.outputs, v.origin) for k, v in pins.list_pins(a).items()} == {"gen": ({"value": "two"}, "run 1234")}
    assert pins.list_pins(b) == {}
    assert pins.remove_pin(a, "gen") and not pins.remove_pin(a, "gen")
    pins.set_pin(b, "gen", {"value": "x"}, "typed")
    pins.remove_pins(b)
    assert pins.list_pins(b) == {}


def test_exporting_a_pipeline_with_pins_has_no_trace_of_them():
    record = store.create_pipeline(SPEC)
    pins.set_pin(record.id, "gen", {"value": SECRET_MOCK}, "typed")
    saved = store.get_pipeline(record.id).spec  # what the API and the versions hold
    exported = json.dumps(spec_to_dict(PipelineSpec.model_validate(saved)))  # what Export downloads
    for text in (json.dumps(saved), exported):
        assert SECRET_MOCK not in text and "pin" not in text.lower()


def test_the_store_moves_a_pin_with_its_outputs_origin_and_age_and_brings_a_dropped_one_back():
    pid = store.create_pipeline(SPEC).id
    pins.set_pin(pid, "gen", {"summary": {"nested": [1, 2]}}, "run 1234")
    age = pins.list_pins(pid)["gen"].created_at
    followed = pins.follow_pins(pid, lambda ids: ({"gen": "echo"}, []))
    row = pins.list_pins(pid)["echo"]
    assert followed.changed and followed.ids == ["echo"] and followed.dropped == []
    assert (row.outputs, row.origin, row.created_at) == ({"summary": {"nested": [1, 2]}}, "run 1234", age)
    dropped = pins.follow_pins(pid, lambda ids: ({}, ids)).dropped
    assert pins.list_pins(pid) == {}
    assert pins.follow_pins(pid, lambda ids: ({}, []), restore=dropped).ids == ["echo"]
    assert pins.list_pins(pid)["echo"].outputs == {"summary": {"nested": [1, 2]}}
