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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from components_catalog.retrieval.chunking import CHUNK_ID_LENGTH
from components_catalog.retrieval.embedding_requests import litellm_kwargs, vectors_of
from components_catalog.types import Document
from runtime.context import RunContext
from runtime.errors import ComponentError, PermanentError, RetryableError
from runtime.settings import data_dir

if TYPE_CHECKING:
    import httpx
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

__all__ = ["LOCAL_MODEL", "MODEL_KEY", "Place", "collection_names", "embed", "embed_local", "embedding_function",
           "call", "find_collection", "get_client", "http_timeout", "is_transport_error", "litellm_kwargs", "model_error", "open_for_indexing", "place",
           "query", "store_metadata", "unreachable", "upsert_chunks", "vectors_of"]

LOCAL_MODEL = "local/minilm"
MODEL_KEY = "patchwire:embedding_model"
_SCALARS = (str, int, float, bool)
_BATCH = 1000  # rows per upsert, well under Chroma's max batch size
_EMBED_BATCH = 256  # texts per embedding request
T = TypeVar("T")
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

    if where[0] == "path":
        return chromadb.PersistentClient(path=where[1], settings=Settings(anonymized_telemetry=False))
    if not where[2].isdigit():
        raise PermanentError(f"CHROMA_PORT must be a port number, got {where[2]!r}.")
    try:
        timeout = http_timeout()  # a bad PATCHWIRE_CHROMA_TIMEOUT_S is a setup error: say so before connecting
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    try:
        _heartbeat(where, timeout)
        client = chromadb.HttpClient(host=where[1], port=int(where[2]), settings=Settings(anonymized_telemetry=False))
    except Exception as exc:
        raise unreachable(where, exc) from exc
    _bound_requests(client, timeout)
    return client


TIMEOUT_ENV = "PATCHWIRE_CHROMA_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5.0


def http_timeout() -> httpx.Timeout:
    """Connect within 5 s; each read, write and pool wait within `PATCHWIRE_CHROMA_TIMEOUT_S` (30 s).

    chromadb's HTTP client has no timeout at all: a server that accepts connections and never answers
    would hang the node (its request runs in a thread, beyond `timeout_s`) and then the process at exit.
    """
    import httpx

    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds, got {raw!r}.") from None
    if not seconds > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be more than 0 seconds, got {raw!r}.")
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def _heartbeat(where: Place, timeout: httpx.Timeout) -> None:
    """Ask the server for its heartbeat with our timeouts before chromadb's first (unbounded) request."""
    import httpx

    response = httpx.get(f"http://{where[1]}:{where[2]}/api/v2/heartbeat", timeout=timeout)
    response.raise_for_status()


def _bound_requests(client: ClientAPI, timeout: httpx.Timeout) -> None:
    """Give chromadb's own HTTP session (`timeout=None`) our timeouts for every later request."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None:  # chromadb changed its internals: a test checks this never happens unnoticed
        raise PermanentError("This chromadb version hides its HTTP session; Patchwire cannot bound the Chroma "
                             "server's request timeouts. Install a chromadb version Patchwire supports.")
    session.timeout = timeout


def unreachable(where: Place, exc: BaseException) -> RetryableError:
    """The error for a Chroma server that is down, unreachable or not answering."""
    if isinstance(exc, RetryableError):
        return exc
    detail = "it did not answer in time" if _is_timeout(exc) else f"{type(exc).__name__}: {exc}"
    return RetryableError(f"Cannot reach {where} ({detail}). Is the server running and answering? Check "
                          "CHROMA_HOST and CHROMA_PORT, or unset both to use the embedded Chroma instead.")


def _is_timeout(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TimeoutException) or "timed out" in str(exc).lower()


def is_transport_error(exc: BaseException) -> bool:
    """A failure to talk to the server at all (down, reset, timed out), as opposed to Chroma refusing."""
    import httpx

    return isinstance(exc, httpx.TransportError) or (
        isinstance(exc, ValueError) and "Could not connect to a Chroma server" in str(exc))


async def call(ctx: RunContext, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` off the event loop; a server that is down or not answering gets a message saying so."""
    try:
        return await ctx.to_thread(fn, *args)
    except Exception as exc:
        where = place()
        if where[0] == "http" and is_transport_error(exc):
            raise unreachable(where, exc) from None
        raise


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


async def embed(ctx: RunContext, texts: list[str], model: str, *, api_base: str | None = None,
                api_key_env: str | None = None) -> list[Any]:
    """Vectors for `texts` with `model`; the calls are recorded under `embedding`."""
    if model == LOCAL_MODEL:
        vectors = await ctx.to_thread(embed_local, texts)
        ctx.record("embedding", {"model": model, "texts": len(texts), "calls": 0, "offline": True})
        return vectors
    from components_catalog.llm.bases import check_model_base
    from components_catalog.llm.errors import map_model_error, redactor
    from components_catalog.llm.providers import load_litellm

    base = await check_model_base(model, api_base, api_key_env)  # before any connection, and before the key
    api_key = ctx.secret(api_key_env) if api_key_env else None
    litellm = await ctx.to_thread(load_litellm)  # the first import takes seconds: not on the event loop
    kwargs = litellm_kwargs(model, api_base, api_key, trusted=base.trusted)
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
