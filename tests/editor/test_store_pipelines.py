"""Saved pipelines in a real database (SQLite and PostgreSQL): revisions, conflicts, the list, named versions."""

from __future__ import annotations

import asyncio

import pytest

from editor.state.pipelines import open_recent_or_new
from editor.state.saving import write
from runtime.store import pipelines as store

pytestmark = pytest.mark.usefixtures("database")  # SQLite and PostgreSQL


def _spec(name: str = "p") -> dict:
    return {"schema_version": 1, "name": name, "nodes": [{"id": "a", "component": "io.input"}], "edges": []}


def test_create_get_and_save_bump_the_revision():
    record = store.create_pipeline(_spec("first"))
    assert record.revision == 1 and store.get_pipeline(record.id).spec["name"] == "first"
    saved = store.save_pipeline(record.id, {**_spec("renamed")}, expected_revision=1)
    assert saved.revision == 2 and saved.name == "renamed"


def test_a_save_from_an_old_revision_is_refused():
    record = store.create_pipeline(_spec())
    store.save_pipeline(record.id, _spec("tab one"), expected_revision=1)
    with pytest.raises(store.RevisionConflict) as exc:
        store.save_pipeline(record.id, _spec("tab two"), expected_revision=1)
    assert (exc.value.expected, exc.value.current) == (1, 2)
    assert "changed elsewhere (another tab or window)" in str(exc.value)
    assert store.get_pipeline(record.id).name == "tab one"


def test_missing_pipelines_are_reported():
    with pytest.raises(store.PipelineNotFound, match="No pipeline `nope`"):
        store.get_pipeline("nope")
    with pytest.raises(store.PipelineNotFound):
        store.save_pipeline("nope", _spec(), expected_revision=1)
    with pytest.raises(store.PipelineNotFound):
        store.delete_pipeline("nope")


def test_list_rename_duplicate_delete_and_most_recent():
    a = store.create_pipeline(_spec("a"))
    b = store.create_pipeline(_spec("b"))
    store.rename_pipeline(a.id, "a2")
    assert store.most_recent_pipeline().id == a.id  # renaming is an edit
    copy = store.duplicate_pipeline(b.id)
    assert copy.name == "b (copy)" and copy.spec["nodes"] == b.spec["nodes"]
    rows = store.list_pipelines()
    assert [r.name for r in rows] == ["b (copy)", "a2", "b"] and rows[0].node_count == 1
    store.delete_pipeline(b.id)
    assert store.pipeline_count() == 2
    with pytest.raises(ValueError, match="needs a name"):
        store.rename_pipeline(a.id, " ")


def test_named_versions():
    record = store.create_pipeline(_spec("v"))
    first = store.save_version(record.id, "before reranker")
    store.save_pipeline(record.id, _spec("v2"), expected_revision=1)
    store.save_version(record.id, "after", spec=_spec("explicit"))
    assert [v.label for v in store.list_versions(record.id)] == ["after", "before reranker"]
    assert store.get_version(first.id).spec["name"] == "v" and first.revision == 1
    with pytest.raises(ValueError, match="needs a name"):
        store.save_version(record.id, "  ")
    store.delete_pipeline(record.id)
    assert store.list_versions(record.id) == []


def test_first_start_opens_a_new_empty_pipeline_then_the_latest():
    first = open_recent_or_new()
    assert first.spec["nodes"] == [] and first.name == "Untitled pipeline"
    assert open_recent_or_new().id == first.id


def test_a_save_holding_a_literal_credential_is_refused_and_the_editor_says_why():
    record = store.create_pipeline(_spec())
    node = {"id": "h", "component": "action.http", "params": {"url": "https://x.test", "headers": {
        "X-Api-Key": "literal-key-5d1c0e9a"}}}
    bad = {**_spec(), "nodes": [node]}
    saved, message, conflict = asyncio.run(write(record.id, bad, record.revision))
    assert saved is None and conflict is False
    assert message.startswith("Not saved: Node `h`: header `X-Api-Key` holds a literal credential")
    assert message.endswith("The node's issue shows where; your edits are kept in this tab and saving retries on "
                            "the next edit.")
    assert "literal-key" not in message
    assert store.get_pipeline(record.id).revision == 1  # nothing was written
