"""The demo knowledge base: its notes, idempotent indexing, and questions it answers through the runtime."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from components_catalog.demo_index import VERSION_KEY, index_demo_kb, main
from components_catalog.demo_kb import kb_version, load_documents
from components_catalog.retrieval import chroma_client as cc
from components_catalog.retrieval.chunking import chunk_id
from components_catalog.retrieval.components import ChromaRetrieve
from runtime import Registry, run
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.testing.specs import make_spec

REGISTRY = Registry([PipelineInput, PipelineOutput, ChromaRetrieve])
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z]|$)")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    """The demo knowledge base indexed once into a temporary data directory."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("demo-kb")
        mp.setenv("PATCHWIRE_DATA_DIR", str(path))
        mp.delenv("CHROMA_HOST", raising=False)
        mp.delenv("CHROMA_PORT", raising=False)
        assert index_demo_kb() == len(load_documents())
        yield path


def test_the_notes_are_a_few_dozen_short_factual_documents_with_topic_and_source():
    docs = load_documents()
    assert 30 <= len(docs) <= 40
    assert len({d.id for d in docs}) == len(docs)
    for doc in docs:
        assert set(doc.metadata) == {"topic", "title", "source"} and doc.metadata["source"] == "patchwire-docs"
        assert doc.metadata["topic"] and doc.metadata["title"]
        assert 2 <= len(SENTENCE_END.findall(doc.text)) <= 5, doc.id
        assert len(doc.text) <= 800, doc.id  # one chunk each
    topics = Counter(d.metadata["topic"] for d in docs)
    assert {"cli", "policies", "security", "retrieval", "runtime", "plugins", "export"} <= set(topics)
    assert re.fullmatch(r"[0-9a-f]{16}", kb_version())


def test_indexing_is_skipped_while_the_version_is_current_and_forced_on_demand(indexed: Path):
    collection = cc.find_collection(cc.get_client(), "patchwire-docs")
    assert collection.metadata == {"patchwire:embedding_model": "local/minilm",
                                   VERSION_KEY: f"{kb_version()}.1"}
    assert index_demo_kb() == 0
    assert index_demo_kb(force=True) == len(load_documents())
    assert collection.count() == len(load_documents())


def test_a_note_dropped_from_the_knowledge_base_is_dropped_from_the_collection(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch,
                                                                                indexed: Path):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    assert index_demo_kb("demo-copy") == len(load_documents())
    collection = cc.find_collection(cc.get_client(), "demo-copy")
    old = chunk_id("retired-note", 0)
    metadata = {"source": "patchwire-docs", "source_id": "retired-note", "chunk": 0}
    mine = {"source": "my-notes", "source_id": "mine", "chunk": 0}
    collection.upsert(ids=[old, "mine"], documents=["Old note.", "My own note."], metadatas=[metadata, mine],
                      embeddings=cc.embed_local(["Old note.", "My own note."]))
    assert index_demo_kb("demo-copy", force=True) == len(load_documents())
    assert collection.get(ids=[old, "mine"])["ids"] == ["mine"]  # the user's own document is left alone


@pytest.mark.parametrize(("question", "note"), [
    ("How does Patchwire run independent branches?", "parallel-execution"),
    ("What happens when a node times out?", "policy-timeout"),
    ("Does Patchwire send telemetry?", "no-telemetry"),
    ("How do I load a plugin file?", "plugins-env"),
    ("Is local/extractive a real language model?", "offline-model"),
])
async def test_questions_about_patchwire_retrieve_the_right_note_in_the_top_two(indexed: Path, question: str,
                                                                                note: str):
    spec = make_spec({"q": ("io.input", {}), "search": ("retrieval.chroma", {"top_k": 2, "min_score": 0.3}),
                      "docs": ("io.output", {})},
                     [("q", "value", "search", "query"), ("search", "documents", "docs", "value")])
    result = await run(spec, {"q": question}, registry=REGISTRY)
    assert result.status == "succeeded", result.error
    assert note in [d.metadata["source_id"] for d in result.outputs["docs"]]


def test_the_command_says_what_it_did(indexed: Path, capsys: pytest.CaptureFixture[str]):
    where = f"embedded Chroma at {indexed / 'chroma'}"
    assert main([]) == 0
    assert capsys.readouterr().out == (f"The demo knowledge base (version {kb_version()}) is already in collection "
                                       f"`patchwire-docs` in {where}: nothing to do (use --force to re-index).\n")
    assert main(["--force"]) == 0
    assert capsys.readouterr().out == (f"Indexed the demo knowledge base (version {kb_version()}, "
                                       f"{len(load_documents())} notes, {len(load_documents())} chunks) into "
                                       f"collection `patchwire-docs` in {where}.\n")


def test_the_command_reports_a_collection_made_for_another_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    cc.get_client().create_collection("other-docs", metadata={cc.MODEL_KEY: "openai/text-embedding-3-small"},
                                      embedding_function=None)
    assert main(["--collection", "other-docs"]) == 1
    assert capsys.readouterr().err.startswith(
        "error: Collection `other-docs` was indexed with embedding model `openai/text-embedding-3-small`, but "
        "the demo knowledge base is indexed with `local/minilm`.")
