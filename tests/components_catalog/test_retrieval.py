"""retrieval.chroma and retrieval.chroma_index through the real runtime, on a real embedded Chroma in a
temporary data directory, with the offline MiniLM embedder (and a loopback OpenAI server for litellm)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from components_catalog.embeddings import default_embedder
from components_catalog.retrieval import chroma_client as cc
from components_catalog.retrieval.chroma_embedding import LiteLLMEmbeddingFunction
from components_catalog.retrieval.chunking import chunk_id, text_source_id
from components_catalog.retrieval.components import (
    ChromaIndex,
    ChromaRetrieve,
    IndexInputs,
    IndexParams,
    RetrieveParams,
    render_context,
)
from components_catalog.types import Document
from runtime import (
    Component,
    NodeFailed,
    NodeFinished,
    NodeRetrying,
    PermanentError,
    Registry,
    RunContext,
    component,
    execute,
)
from runtime.builtins import PipelineInput, PipelineOutput
from runtime.testing.fake_openai import FakeOpenAI, fake_embedding
from runtime.testing.specs import make_spec


class DocParams(BaseModel):
    id: str = Field(description="Document id")
    text: str = Field(description="Document text")


class NoInputs(BaseModel):
    pass


class OneDocument(BaseModel):
    document: Document = Field(description="The document")


@component(id="test.document", version=1, title="One document", category="Testing")
class MakeDocument(Component):
    """Emit one typed Document (to fan several into `documents`)."""

    params: DocParams

    async def run(self, inputs: NoInputs, ctx: RunContext) -> OneDocument:
        return OneDocument(document=Document(id=self.params.id, text=self.params.text))


REGISTRY = Registry([PipelineInput, PipelineOutput, ChromaRetrieve, ChromaIndex, MakeDocument])
DOCS = [
    {"id": "cats", "text": "Cats are small domesticated felines that purr and hunt mice.",
     "metadata": {"topic": "animals", "year": 2020}},
    {"id": "rockets", "text": "Rockets burn fuel to launch satellites into orbit around the Earth.",
     "metadata": {"topic": "space", "year": 2022}},
    {"id": "bread", "text": "Bread is baked from flour, water, yeast and salt in a hot oven.",
     "metadata": {"topic": "food", "year": 2021}},
    {"id": "volcanoes", "text": "Volcanoes erupt molten lava and ash from deep inside the Earth.",
     "metadata": {"topic": "geology", "year": 2019}},
    {"id": "pasta", "text": "Pasta is boiled in salted water and served with tomato sauce.",
     "metadata": {"topic": "food", "year": 2023}},
]


async def run_node(spec: Any, inputs: dict[str, Any], node: str) -> tuple[Any, dict[str, Any], list[Any]]:
    """(the node's outputs or its error, its recorded trace, all events)."""
    events = [e async for e in execute(spec, inputs, registry=REGISTRY)]
    done = next(e for e in events if isinstance(e, NodeFinished | NodeFailed) and e.node_id == node)
    result = done.outputs if isinstance(done, NodeFinished) else done.error
    return result, done.trace, events


def index_spec(policy: dict[str, Any] | None = None, **params: Any) -> Any:
    node = ("retrieval.chroma_index", params, policy) if policy else ("retrieval.chroma_index", params)
    return make_spec({"docs": ("io.input", {"type": "json"}), "index": node,
                      "ids": ("io.output", {})},
                     [("docs", "value", "index", "documents"), ("index", "ids", "ids", "value")])


def search_spec(**params: Any) -> Any:
    return make_spec({"query": ("io.input", {}), "search": ("retrieval.chroma", params),
                      "documents": ("io.output", {}), "context": ("io.output", {})},
                     [("query", "value", "search", "query"), ("search", "documents", "documents", "value"),
                      ("search", "context", "context", "value")])


async def index(docs: list[dict[str, Any]], **params: Any) -> tuple[Any, dict[str, Any]]:
    outputs, trace, _ = await run_node(index_spec(**params), {"docs": docs}, "index")
    return outputs, trace


async def search(query: str, **params: Any) -> tuple[Any, dict[str, Any]]:
    outputs, trace, _ = await run_node(search_spec(**params), {"query": query}, "search")
    return outputs, trace


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory):
    """One data directory (and so one embedded Chroma) for the module, with `animals` indexed once."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("patchwire-data")
        mp.setenv("PATCHWIRE_DATA_DIR", str(path))
        mp.delenv("CHROMA_HOST", raising=False)
        mp.delenv("CHROMA_PORT", raising=False)
        default_embedder()  # load the model once for the module
        outputs, _ = asyncio.run(index(DOCS, collection="animals"))
        assert outputs["chunks"] == 5
        yield path


@pytest.fixture
def fresh_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    """An empty data directory for tests that need to see every collection there."""
    monkeypatch.setenv("PATCHWIRE_DATA_DIR", str(tmp_path))
    return tmp_path


async def test_the_closest_document_comes_first_scored_0_to_1_and_the_query_is_recorded(data_dir: Path):
    outputs, trace = await search("How do you bake bread?", collection="animals")
    docs = [Document.model_validate(d) for d in outputs["documents"]]
    assert [d.metadata["source_id"] for d in docs][0] == "bread"
    assert len(docs) == 4  # top_k defaults to 4
    assert all(0.0 <= d.score <= 1.0 for d in docs) and docs[0].score > 0.5
    assert [d.score for d in docs] == sorted((d.score for d in docs), reverse=True)
    assert docs[0].text == DOCS[2]["text"]
    assert docs[0].metadata == {"topic": "food", "year": 2021, "source_id": "bread", "chunk": 0}
    assert trace["retrieval"] == {
        "query": "How do you bake bread?", "collection": "animals", "top_k": 4, "where": None, "min_score": 0.0,
        "embedding_model": "local/minilm", "results": [{"id": d.id, "score": d.score} for d in docs],
        "below_min_score": 0}
    assert trace["embedding"] == {"model": "local/minilm", "texts": 1, "calls": 0, "offline": True}
    assert outputs["context"] == "\n\n".join(f"[{n}] {d.text}" for n, d in enumerate(docs, start=1))


async def test_top_k_where_and_min_score(data_dir: Path):
    outputs, _ = await search("satellites in orbit", collection="animals", top_k=2)
    assert [d.metadata["source_id"] for d in outputs["documents"]][:1] == ["rockets"]
    assert len(outputs["documents"]) == 2
    outputs, _ = await search("satellites in orbit", collection="animals", where={"topic": "food"})
    assert sorted(d.metadata["source_id"] for d in outputs["documents"]) == ["bread", "pasta"]
    outputs, _ = await search("anything", collection="animals",
                              where={"topic": {"$in": ["food", "space"]}, "year": {"$gte": 2022}})
    assert sorted(d.metadata["source_id"] for d in outputs["documents"]) == ["pasta", "rockets"]
    outputs, trace = await search("Which animals purr?", collection="animals", min_score=0.4)
    assert [d.metadata["source_id"] for d in outputs["documents"]] == ["cats"]
    assert trace["retrieval"]["below_min_score"] == 3


async def test_nothing_above_min_score_fires_both_ports_empty(data_dir: Path):
    outputs, trace = await search("quarterly tax filing deadlines", collection="animals", min_score=0.9)
    assert outputs == {"documents": [], "context": ""}
    assert trace["retrieval"]["results"] == []


async def test_context_template_and_separator(data_dir: Path):
    outputs, _ = await search("lava", collection="animals", top_k=2, separator="\n---\n",
                              context_template="{n}. ({meta.topic}, {meta.missing}) {text} {score} {{not a field}}")
    first, second = (Document.model_validate(d) for d in outputs["documents"])
    assert outputs["context"] == (f"1. (geology, ) {first.text} {first.score:.2f} {{{{not a field}}}}\n---\n"
                                  f"2. ({second.metadata['topic']}, ) {second.text} {second.score:.2f} "
                                  "{{not a field}}")
    assert render_context("{id}", [Document(id="x", text="t")], ",") == "x"


async def test_a_missing_collection_says_which_exist_and_how_to_create_one(fresh_dir: Path):
    where = f"embedded Chroma at {fresh_dir / 'chroma'}"
    error, _ = await search("bread", collection="nope")
    assert error.type == "PermanentError"
    assert error.message == (
        f"Chroma collection `nope` does not exist in {where}. Existing collections: none. Create it by indexing "
        "documents with a `retrieval.chroma_index` node (collection `nope`), or load the demo knowledge base "
        "with `python -m components_catalog.demo_index` (collection `patchwire-docs`).")
    await index(DOCS[:1], collection="notes-b")
    await index(DOCS[:1], collection="notes-a")
    error, _ = await search("bread", collection="nope")
    assert "Existing collections: `notes-a`, `notes-b`. Create it" in error.message


async def test_querying_or_indexing_with_another_embedding_model_is_refused(data_dir: Path):
    other = "openai/text-embedding-3-small"
    error, trace = await search("bread", collection="animals", embedding_model=other)
    assert (error.type, error.message) == ("PermanentError", (
        "Collection `animals` was indexed with embedding model `local/minilm`, but this node queries it with "
        "`openai/text-embedding-3-small`. Vectors from different models live in different spaces, so the "
        "results would be meaningless. Set `embedding_model` to `local/minilm`, or index into a new "
        "collection with `openai/text-embedding-3-small`."))
    assert "embedding" not in trace  # refused before any model call
    error, _ = await index(DOCS[:1], collection="animals", embedding_model=other)
    assert "but this node indexes it with `openai/text-embedding-3-small`." in error.message


async def test_reindexing_upserts_and_a_shorter_document_drops_its_stale_chunks(fresh_dir: Path):
    long_doc = {"id": "manual", "text": " ".join(f"Sentence number {i} is here." for i in range(12))}
    first, _ = await index([long_doc], collection="manual", chunk_size=100, chunk_overlap=20, id_prefix="m-")
    assert first["ids"] == [chunk_id("manual", i, "m-") for i in range(4)] and first["chunks"] == 4
    again, trace = await index([long_doc], collection="manual", chunk_size=100, chunk_overlap=20, id_prefix="m-")
    collection = cc.find_collection(cc.get_client(), "manual")
    assert again == first and collection.count() == 4
    assert trace["indexing"]["removed_stale_chunks"] == []
    short = {"id": "manual", "text": "Sentence number 0 is here. Only this remains."}
    shorter, trace = await index([short], collection="manual", chunk_size=100, chunk_overlap=20, id_prefix="m-")
    assert shorter == {"ids": [chunk_id("manual", 0, "m-")], "chunks": 1}
    assert trace["indexing"]["removed_stale_chunks"] == sorted(first["ids"][1:])
    assert collection.count() == 1
    assert collection.get(ids=shorter["ids"])["documents"] == [short["text"]]


async def test_index_takes_texts_with_metadata_and_fanned_in_documents(fresh_dir: Path):
    spec = make_spec(
        {"a": ("test.document", {"id": "a", "text": "Alpha document about gardening."}),
         "b": ("test.document", {"id": "b", "text": "Beta document about sailing."}),
         "texts": ("io.input", {"type": "json"}), "meta": ("io.input", {"type": "json"}),
         "index": ("retrieval.chroma_index", {"collection": "mixed"}), "n": ("io.output", {})},
        [("a", "document", "index", "documents"), ("b", "document", "index", "documents"),
         ("texts", "value", "index", "texts"), ("meta", "value", "index", "metadata"),
         ("index", "chunks", "n", "value")])
    outputs, trace, _ = await run_node(spec, {"texts": ["A plain text about cooking."],
                                              "meta": {"source": "upload", "tags": ["x", "y"], "extra": {"k": 1}}},
                                       "index")
    assert outputs["chunks"] == 3 and trace["indexing"]["documents"] == 3
    stored = cc.find_collection(cc.get_client(), "mixed").get(include=["metadatas"])
    by_source = {m["source_id"]: m for m in stored["metadatas"]}
    assert set(by_source) == {"a", "b", text_source_id("A plain text about cooking.")}
    assert by_source["a"] == {"source": "upload", "tags": ["x", "y"], "extra": '{"k": 1}', "source_id": "a",
                              "chunk": 0}


async def test_index_with_nothing_to_index_says_so(fresh_dir: Path):
    error, _ = await index([], collection="empty-one")
    assert (error.type, error.message) == ("PermanentError", "Nothing to index: inputs `documents` and `texts` "
                                           "are both empty. Connect documents (or texts) to this node.")
    direct = ChromaIndex(IndexParams()).run(IndexInputs.model_construct(documents=[{"id": "x"}]),
                                            RunContext(run_id="r", node_id="index", component_id="retrieval.chroma_index"))
    with pytest.raises(PermanentError) as info:  # called outside the runtime, which checks wired values
        await direct
    assert str(info.value) == ("Input `documents` expects a list of Documents (`id`, `text`, optional `metadata`): "
                               "Field required at (0, 'text').")


@pytest.mark.parametrize(("params", "message"), [
    ({"where": {"topic": ["a"]}}, "`where.topic` must be a string, number, boolean or an operator like "
                                  '{"$in": [...]}, got [\'a\']'),
    ({"where": {"year": {"$gte": "2020"}}}, "`where.year.$gte` expects a number, got '2020'"),
    ({"where": {"$and": [{"a": 1}, {"b": {"$like": 2}}]}},
     "`where.$and[1].b` must hold exactly one operator of $contains, $eq, $gt, $gte, $in, $lt, $lte, $ne, "
     "$nin, $not_contains; got {'$like': 2}"),
    ({"where": {"$not": {"a": 1}}}, "`where`: unknown operator `$not` at the top level; use `$and`, `$or` or "
                                    "a metadata field name"),
    ({"context_template": "{n} {title}"}, "unknown placeholder `{title}`; use {n}, {id}, {text}, {score} or "
                                          "{meta.KEY} (e.g. {meta.title})"),
    ({"collection": "a b"}, "'a b' is not a valid Chroma collection name: use 3-512 characters of letters, "
                            "digits, `.`, `_` and `-`, starting and ending with a letter or digit"),
    ({"api_key_env": "sk-abc123"}, "api_key_env takes the NAME of an environment variable (like "
                                   "OPENAI_API_KEY), never the key itself"),
])
def test_bad_retrieval_params_are_refused_with_what_to_write(params: dict[str, Any], message: str):
    with pytest.raises(ValidationError) as info:
        RetrieveParams.model_validate(params)
    assert info.value.errors()[0]["msg"] == f"Value error, {message}"


def test_index_params_refuse_an_overlap_as_large_as_the_chunk():
    with pytest.raises(ValidationError) as info:
        IndexParams(chunk_size=100, chunk_overlap=100)
    assert info.value.errors()[0]["msg"] == "Value error, chunk_overlap (100) must be smaller than chunk_size (100)"
    assert RetrieveParams(where={}).where is None


async def test_litellm_embedding_models_go_through_the_provider_and_keep_the_key_out(
        fresh_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_EMBED_API_KEY", "sk-test-secret-123")
    with FakeOpenAI() as srv:
        monkeypatch.setenv("PATCHWIRE_MODEL_BASES", srv.base_url)
        params = {"collection": "hosted", "embedding_model": "openai/text-embedding-3-small",
                  "api_base": srv.base_url, "api_key_env": "TEST_EMBED_API_KEY"}
        texts = [{"id": n, "text": f"{n} text"} for n in ("alpha", "beta", "gamma")]
        outputs, _ = await index(texts, **params)
        assert outputs["chunks"] == 3
        posts = [r for r in srv.requests if r["method"] == "POST"]
        assert [(r["path"], r["json"]["model"], r["json"]["input"]) for r in posts] == [
            ("/v1/embeddings", "text-embedding-3-small", ["alpha text", "beta text", "gamma text"])]
        assert posts[0]["headers"]["authorization"] == "Bearer sk-test-secret-123"
        outputs, trace = await search("beta text", **params)
        assert srv.requests[-1]["json"]["input"] == ["beta text"]
        config = cc.find_collection(cc.get_client(), "hosted").configuration_json["embedding_function"]
        function = LiteLLMEmbeddingFunction.build_from_config(config["config"])  # what Chroma rebuilds
        vectors = await asyncio.to_thread(function, ["beta text"])
    assert [list(v) for v in vectors] == [pytest.approx(fake_embedding("beta text"), abs=1e-6)]
    best = Document.model_validate(outputs["documents"][0])
    assert (best.text, best.score) == ("beta text", pytest.approx(1.0, abs=1e-4))
    assert trace["embedding"] == {"model": "openai/text-embedding-3-small", "texts": 1, "calls": 1,
                                  "api_base": srv.base_url, "prompt_tokens": 2, "cost_usd": pytest.approx(4e-8)}
    assert "sk-test-secret-123" not in json.dumps(trace, default=str)
    assert config == {"type": "known", "name": "patchwire-litellm", "config": {
        "model": "openai/text-embedding-3-small", "api_base": srv.base_url, "api_key_env": "TEST_EMBED_API_KEY"}}


async def test_a_rate_limited_embedding_call_is_retried_by_the_node_policy_only(
        fresh_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_EMBED_API_KEY", "sk-test")
    with FakeOpenAI() as srv:
        monkeypatch.setenv("PATCHWIRE_MODEL_BASES", srv.base_url)
        srv.script([{"status": 429, "retry_after": 0.05}])
        spec = index_spec({"retries": 1, "retry_backoff_s": 0}, collection="limited", api_base=srv.base_url,
                          embedding_model="openai/text-embedding-3-small", api_key_env="TEST_EMBED_API_KEY")
        outputs, _, events = await run_node(spec, {"docs": DOCS[:1]}, "index")
        posts = [r for r in srv.requests if r["method"] == "POST"]
    retrying = [e for e in events if isinstance(e, NodeRetrying)]
    assert len(posts) == 2 and outputs["chunks"] == 1  # one refused call, one retry by the runtime, no more
    assert [(e.error.type, e.delay_s) for e in retrying] == [("RetryableError", 0.05)]
    assert retrying[0].error.message.startswith("Model `openai/text-embedding-3-small` is rate limited (HTTP 429)")


async def test_an_empty_query_is_a_permanent_error(data_dir: Path):
    error, _ = await search("   ", collection="animals")
    assert (error.type, error.message) == ("PermanentError", "Input `query` is empty: there is nothing to "
                                           "search `animals` for.")


def test_one_client_per_place_created_once_across_threads_without_telemetry(fresh_dir: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    clients: list[Any] = []
    threads = [threading.Thread(target=lambda: clients.append(cc.get_client())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in clients}) == 1
    assert clients[0].get_settings().anonymized_telemetry is False
    assert cc.place() == ("path", str(fresh_dir / "chroma"))
    monkeypatch.setenv("CHROMA_HOST", "chroma.internal")
    assert (cc.place(), str(cc.place())) == (("http", "chroma.internal", "8000"),
                                             "the Chroma server at chroma.internal:8000")
    monkeypatch.setenv("CHROMA_PORT", "9000")
    assert cc.place() == ("http", "chroma.internal", "9000")


def test_importing_the_components_imports_no_heavy_library():
    code = ("import sys, components_catalog.retrieval.components, components_catalog.retrieval.chroma_client; "
            "print(sorted({'chromadb', 'litellm', 'onnxruntime', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
