"""Chroma access for the retrieval components: one cached client per place, collections that remember
their embedding model, and the embedding calls.

Embedded `chromadb.PersistentClient` at `data_dir()/chroma` by default; `CHROMA_HOST`/`CHROMA_PORT`
switch to a Chroma server (`chromadb.HttpClient`). Telemetry is off. The sync functions block: call them
through `ctx.to_thread`. chromadb, onnxruntime and litellm load on first use only.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from components_catalog.retrieval.chunking import CHUNK_ID_LENGTH
from components_catalog.types import Document
from runtime.context import RunContext
from runtime.errors import ComponentError, PermanentError, RetryableError
from runtime.settings import data_dir

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

__all__ = ["LOCAL_MODEL", "MODEL_KEY", "Place", "collection_names", "embed", "embed_local", "embedding_function",
           "find_collection", "get_client", "litellm_kwargs", "model_error", "open_for_indexing", "place",
           "query", "store_metadata", "upsert_chunks", "vectors_of"]

LOCAL_MODEL = "local/minilm"
MODEL_KEY = "patchwire:embedding_model"
_SCALARS = (str, int, float, bool)
_BATCH = 1000  # rows per upsert, well under Chroma's max batch size
_EMBED_BATCH = 256  # texts per embedding request
_clients: dict[tuple[str, ...], ClientAPI] = {}
_clients_lock = threading.Lock()


class Place(tuple):
    """Where Chroma lives: ("path", dir) or ("http", host, port); `str()` reads well in messages."""

    def __str__(self) -> str:
        return f"embedded Chroma at {self[1]}" if self[0] == "path" else f"the Chroma server at {self[1]}:{self[2]}"


def place() -> Place:
    """Read from the environment on every call, so tests and operators can switch it."""
    host, port = os.environ.get("CHROMA_HOST"), os.environ.get("CHROMA_PORT")
    if host or port:
        return Place(("http", host or "localhost", port or "8000"))
    return Place(("path", str(data_dir() / "chroma")))


def get_client() -> ClientAPI:
    """The process-wide client for the current `place()`, created once per place (thread-safe)."""
    where = place()
    with _clients_lock:
        client = _clients.get(where)
        if client is None:
            client = _clients[where] = _new_client(where)
    return client


def _new_client(where: Place) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings

    import components_catalog.retrieval.chroma_embedding  # noqa: F401 - registers our embedding functions by name

    settings = Settings(anonymized_telemetry=False)
    if where[0] == "path":
        return chromadb.PersistentClient(path=where[1], settings=settings)
    if not where[2].isdigit():
        raise PermanentError(f"CHROMA_PORT must be a port number, got {where[2]!r}.")
    try:
        return chromadb.HttpClient(host=where[1], port=int(where[2]), settings=settings)
    except Exception as exc:
        raise RetryableError(f"Cannot reach {where} ({type(exc).__name__}: {exc}). Is the server running? "
                             "Unset CHROMA_HOST and CHROMA_PORT to use the embedded Chroma instead.") from exc


# --- collections ----------------------------------------------------------------------------------------


def find_collection(client: ClientAPI, name: str) -> Collection | None:
    """The collection, or None when it does not exist."""
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)  # we always pass vectors ourselves
    except NotFoundError:
        return None


def collection_names(client: ClientAPI) -> list[str]:
    return sorted(c.name for c in client.list_collections())


def model_error(collection: Collection, model: str, user: str) -> str | None:
    """Why `user` ("this node queries it") must not use `collection` with `model`, or None if it may."""
    stored = (collection.metadata or {}).get(MODEL_KEY)
    if stored is None or stored == model:
        return None
    return (f"Collection `{collection.name}` was indexed with embedding model `{stored}`, but {user} "
            f"with `{model}`. Vectors from different models live in different spaces, so the "
            f"results would be meaningless. Set `embedding_model` to `{stored}`, or index into a new "
            f"collection with `{model}`.")


def open_for_indexing(client: ClientAPI, name: str, model: str, ef_config: dict[str, Any],
                      user: str = "this node indexes it") -> Collection:
    """Get or create `name` (cosine space, `model` in its metadata); refuse one made for another model."""
    collection = find_collection(client, name)  # first, so that our model check speaks before Chroma's
    if collection is None:
        collection = client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, metadata={MODEL_KEY: model},
            embedding_function=embedding_function(model, **ef_config))
    if (error := model_error(collection, model, user)) is not None:
        raise PermanentError(error)
    return collection


def query(collection: Collection, vector: Any, top_k: int, where: dict[str, Any] | None) -> list[Document]:
    """The `top_k` nearest chunks, best first, scored 1 - cosine distance (clipped to 0..1)."""
    from chromadb.errors import ChromaError

    try:
        result = collection.query(query_embeddings=[vector], n_results=top_k, where=where,
                                  include=["documents", "metadatas", "distances"])
    except (ChromaError, ValueError) as exc:
        raise PermanentError(f"Chroma rejected the query on collection `{collection.name}`: {exc}") from exc
    rows = zip(result["ids"][0], (result["documents"] or [[]])[0], (result["metadatas"] or [[]])[0],
               (result["distances"] or [[]])[0], strict=False)
    return [Document(id=i, text=text or "", metadata=dict(meta or {}), score=min(1.0, max(0.0, 1.0 - dist)))
            for i, text, meta, dist in rows]


def upsert_chunks(collection: Collection, chunks: Sequence[Document], vectors: Sequence[Any],
                  id_prefix: str = "") -> list[str]:
    """Upsert chunks with their vectors, then delete the chunks of the same sources (and id prefix) that
    this indexing did not write: what is left of a document that got shorter. Returns the ids deleted."""
    ids = [c.id for c in chunks]
    for start in range(0, len(chunks), _BATCH):
        part = slice(start, start + _BATCH)
        collection.upsert(ids=ids[part], documents=[c.text for c in chunks[part]],
                          metadatas=[store_metadata(c.metadata) for c in chunks[part]],
                          embeddings=list(vectors[part]))
    sources = sorted({str(c.metadata["source_id"]) for c in chunks})
    same_sources: Any = {"source_id": {"$in": sources}}
    existing = collection.get(where=same_sources, include=[])["ids"]
    keep, width = set(ids), len(id_prefix) + CHUNK_ID_LENGTH
    stale = sorted(i for i in existing if i not in keep and i.startswith(id_prefix) and len(i) == width)
    if stale:
        collection.delete(ids=stale)
    return stale


def store_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata Chroma accepts: scalars and lists of one scalar type as they are, None dropped, the rest
    as JSON text."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        ok = isinstance(value, _SCALARS) or (
            isinstance(value, list) and bool(value) and all(isinstance(v, _SCALARS) for v in value)
            and len({type(v) for v in value}) == 1)
        out[str(key)] = value if ok else json.dumps(value, sort_keys=True, default=str)
    return out


# --- embeddings -----------------------------------------------------------------------------------------


def embedding_function(model: str, *, api_base: str | None = None, api_key_env: str | None = None) -> Any:
    """The chromadb embedding function a collection made for `model` keeps in its configuration."""
    from components_catalog.retrieval.chroma_embedding import (
        LiteLLMEmbeddingFunction,
        MiniLMEmbeddingFunction,
    )

    if model == LOCAL_MODEL:
        return MiniLMEmbeddingFunction()
    return LiteLLMEmbeddingFunction(model, api_base, api_key_env)


def embed_local(texts: Sequence[str]) -> list[Any]:
    """Offline MiniLM vectors (blocking, CPU)."""
    from components_catalog.embeddings import default_embedder

    return list(default_embedder().embed(list(texts)))


class _NoRetries(int):
    """Zero retries that litellm keeps. Its openai embedding path does `max_retries or DEFAULT_MAX_RETRIES`
    (litellm 1.110, llms/openai/openai.py), turning a plain 0 into 2 hidden retries; the node policy is
    the only retry layer."""

    def __bool__(self) -> bool:
        return True


def litellm_kwargs(model: str, api_base: str | None, api_key: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": model, "max_retries": _NoRetries(0)}
    if api_base:
        kwargs["api_base"] = api_base
    if api_key:
        kwargs["api_key"] = api_key
    return kwargs


def vectors_of(response: Any) -> list[list[float]]:
    return [list(d["embedding"]) for d in sorted(response.data, key=lambda d: d["index"])]


async def embed(ctx: RunContext, texts: list[str], model: str, *, api_base: str | None = None,
                api_key_env: str | None = None) -> list[Any]:
    """Vectors for `texts` with `model`; the calls are recorded under `embedding`."""
    if model == LOCAL_MODEL:
        vectors = await ctx.to_thread(embed_local, texts)
        ctx.record("embedding", {"model": model, "texts": len(texts), "calls": 0, "offline": True})
        return vectors
    from components_catalog.llm.errors import map_model_error, redactor
    from components_catalog.llm.providers import load_litellm

    api_key = ctx.secret(api_key_env) if api_key_env else None
    litellm = await ctx.to_thread(load_litellm)  # the first import takes seconds: not on the event loop
    kwargs = litellm_kwargs(model, api_base, api_key)
    record: dict[str, Any] = {"model": model, "texts": len(texts), "calls": 0, "api_base": api_base,
                              "prompt_tokens": 0, "cost_usd": 0.0}
    ctx.record("embedding", record)  # updated in place: a failed call stays visible
    vectors: list[Any] = []
    for start in range(0, len(texts), _EMBED_BATCH):
        record["calls"] += 1
        try:
            response = await litellm.aembedding(input=texts[start : start + _EMBED_BATCH], **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to the runtime's two kinds
            error = exc if isinstance(exc, ComponentError) else map_model_error(
                exc, model, api_key_env=api_key_env, redact=redactor(ctx, api_key))
            record["error"] = str(error)
            raise error from None  # the provider's exception may quote the key: never chain it
        vectors += vectors_of(response)
        record["prompt_tokens"] += getattr(response.usage, "prompt_tokens", 0) or 0
        record["cost_usd"] += (getattr(response, "_hidden_params", None) or {}).get("response_cost") or 0.0
    return vectors
