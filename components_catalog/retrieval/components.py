"""Retrieval with Chroma: `retrieval.chroma_index` chunks, embeds and upserts documents into a collection;
`retrieval.chroma` embeds a query and returns the closest chunks plus a ready-to-prompt context string.

A collection remembers the embedding model it was made with (`patchwire:embedding_model` in its
metadata): querying or indexing it with another model is refused, never silently mixed. The default
model, `local/minilm`, is the offline all-MiniLM-L6-v2; any other name is a litellm embedding model.
Chroma and the embedder block, so they run in threads; chromadb and litellm load on first use.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator, model_validator

from components_catalog.llm.bases import api_base_warnings
from components_catalog.retrieval.chunking import chunk_documents, text_source_id
from components_catalog.types import Document
from runtime import Component, PermanentError, RunContext, component
from runtime.component import ParamWarning
from runtime.secrets import check_allowed_name

__all__ = ["ChromaIndex", "ChromaRetrieve", "check_where", "render_context"]

_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,510})[A-Za-z0-9]$")
_FIELD_OPS = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains"}
_SCALARS = (str, int, float, bool)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.\-]*)\}")
_KNOWN_FIELDS = ("n", "id", "text", "score")
_DOCUMENTS = TypeAdapter(list[Document])


class EmbeddingParams(BaseModel):
    collection: str = Field("patchwire-docs", description="Chroma collection name (3-512 characters of "
                            "letters, digits, `.`, `_`, `-`; starts and ends with a letter or digit)")
    embedding_model: str = Field("local/minilm", description="`local/minilm` (offline all-MiniLM-L6-v2) or a "
                                 "litellm embedding model, e.g. `openai/text-embedding-3-small`. Must match "
                                 "the model the collection was indexed with")
    api_base: str | None = Field(None, description="Base URL of the embedding API (litellm models only)")
    api_key_env: str | None = Field(None, description="NAME of the environment variable holding the API key "
                                    "(litellm models only); the key itself never goes in the spec")

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not _COLLECTION_NAME.match(value) or ".." in value:
            raise ValueError(f"{value!r} is not a valid Chroma collection name: use 3-512 characters of "
                             "letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("api_key_env takes the NAME of an environment variable (like OPENAI_API_KEY), "
                             "never the key itself")
        return check_allowed_name(value)


def check_where(where: Any, path: str = "where") -> None:
    """Raise ValueError naming the first part of a Chroma metadata filter that has the wrong shape."""
    if not isinstance(where, dict) or not where:
        raise ValueError(f"`{path}` must be a non-empty object, got {where!r}")
    for key, value in where.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise ValueError(f"`{path}.{key}` must be a non-empty list of filters, got {value!r}")
            for i, item in enumerate(value):
                check_where(item, f"{path}.{key}[{i}]")
        elif key.startswith("$"):
            raise ValueError(f"`{path}`: unknown operator `{key}` at the top level; use `$and`, `$or` or "
                             "a metadata field name")
        elif isinstance(value, dict):
            _check_operator(value, f"{path}.{key}")
        elif not isinstance(value, _SCALARS):
            raise ValueError(f"`{path}.{key}` must be a string, number, boolean or an operator like "
                             f'{{"$in": [...]}}, got {value!r}')


def _check_operator(expr: dict[str, Any], path: str) -> None:
    if len(expr) != 1 or next(iter(expr)) not in _FIELD_OPS:
        raise ValueError(f"`{path}` must hold exactly one operator of {', '.join(sorted(_FIELD_OPS))}; "
                         f"got {expr!r}")
    op, operand = next(iter(expr.items()))
    if op in ("$in", "$nin"):
        ok = isinstance(operand, list) and bool(operand) and all(isinstance(v, _SCALARS) for v in operand)
        expected = "a non-empty list of strings, numbers or booleans"
    elif op in ("$gt", "$gte", "$lt", "$lte"):
        ok, expected = isinstance(operand, int | float) and not isinstance(operand, bool), "a number"
    else:
        ok, expected = isinstance(operand, _SCALARS), "a string, number or boolean"
    if not ok:
        raise ValueError(f"`{path}.{op}` expects {expected}, got {operand!r}")


def chroma_where(where: dict[str, Any]) -> dict[str, Any]:
    """The filter as Chroma wants it: one key per level (`{"a": 1, "b": 2}` becomes an `$and`)."""
    clauses = []
    for key, value in where.items():
        if key in ("$and", "$or"):
            items = [chroma_where(item) for item in value]
            clauses.append(items[0] if len(items) == 1 else {key: items})
        else:
            clauses.append({key: value})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def render_context(template: str, documents: list[Document], separator: str) -> str:
    """Each document through `template` ({n}, {id}, {text}, {score}, {meta.KEY}), joined by `separator`."""

    def render(n: int, doc: Document) -> str:
        def field(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("meta."):
                return str(doc.metadata.get(name[5:], ""))
            values = {"n": str(n), "id": doc.id, "text": doc.text, "score": f"{doc.score or 0.0:.2f}"}
            return values.get(name, match.group(0))

        return _PLACEHOLDER.sub(field, template)

    return separator.join(render(n, doc) for n, doc in enumerate(documents, start=1))


# --- retrieval.chroma ----------------------------------------------------------------------------------


class EmbeddingEndpointWarnings:
    """Validation warnings for a component that embeds through `EmbeddingParams.api_base` (a mixin, not a
    component: the registry only sees classes decorated with `@component`)."""

    @classmethod
    def param_warnings(cls, params: BaseModel) -> list[ParamWarning]:
        assert isinstance(params, EmbeddingParams)
        return api_base_warnings(params.embedding_model, params.api_base)


class RetrieveParams(EmbeddingParams):
    top_k: int = Field(4, ge=1, le=100, description="How many chunks to return at most")
    where: dict[str, Any] | None = Field(None, description='Chroma metadata filter, e.g. {"topic": "cli"} or '
                                         '{"year": {"$gte": 2024}}; several keys are all required')
    min_score: float = Field(0.0, ge=0, le=1, description="Drop chunks whose similarity (0..1) is below this")
    context_template: str = Field("[{n}] {text}", description="How each chunk reads in `context`: {n} (rank "
                                  "from 1), {id}, {text}, {score} and {meta.KEY} (a metadata value)")
    separator: str = Field("\n\n", description="Put between chunks in `context`")

    @field_validator("where")
    @classmethod
    def _where_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value:
            check_where(value)
        return value or None

    @field_validator("context_template")
    @classmethod
    def _template_fields(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if name not in _KNOWN_FIELDS and not (name.startswith("meta.") and len(name) > 5):
                raise ValueError(f"unknown placeholder `{{{name}}}`; use {{n}}, {{id}}, {{text}}, {{score}} "
                                 "or {meta.KEY} (e.g. {meta.title})")
        return value


class RetrieveInputs(BaseModel):
    query: str = Field(description="What to search the collection for")


class RetrieveOutputs(BaseModel):
    documents: list[Document] = Field(description="The closest chunks, best first, with `score` 0..1")
    context: str = Field(description="The chunks rendered with `context_template`, ready for a prompt")


@component(id="retrieval.chroma", version=1, title="Chroma retrieval", category="Retrieval")
class ChromaRetrieve(EmbeddingEndpointWarnings, Component):
    """Find the chunks of a Chroma collection closest to the query (cosine similarity)."""

    params: RetrieveParams

    async def run(self, inputs: RetrieveInputs, ctx: RunContext) -> RetrieveOutputs:
        from components_catalog.retrieval import chroma_client as cc

        p = self.params
        if not inputs.query or not inputs.query.strip():
            raise PermanentError(f"Input `query` is empty: there is nothing to search `{p.collection}` for.")
        client = await cc.call(ctx, cc.get_client)
        collection = await cc.call(ctx, cc.find_collection, client, p.collection)
        if collection is None:
            names = await cc.call(ctx, cc.collection_names, client)
            raise PermanentError(_missing_message(p.collection, names, str(cc.place())))
        if (error := cc.model_error(collection, p.embedding_model, "this node queries it")) is not None:
            raise PermanentError(error)
        vector = (await cc.embed(ctx, [inputs.query], p.embedding_model, api_base=p.api_base,
                                 api_key_env=p.api_key_env))[0]
        found = await cc.call(ctx, cc.query, collection, vector, p.top_k, p.where and chroma_where(p.where))
        documents = [d for d in found if (d.score or 0.0) >= p.min_score]
        ctx.record("retrieval", {
            "query": inputs.query, "collection": p.collection, "top_k": p.top_k, "where": p.where,
            "min_score": p.min_score, "embedding_model": p.embedding_model,
            "results": [{"id": d.id, "score": d.score} for d in documents],
            "below_min_score": len(found) - len(documents)})
        return RetrieveOutputs(documents=documents, context=render_context(p.context_template, documents,
                                                                           p.separator))


def _missing_message(name: str, existing: list[str], where: str) -> str:
    listed = ", ".join(f"`{n}`" for n in existing) if existing else "none"
    return (f"Chroma collection `{name}` does not exist in {where}. Existing collections: {listed}. "
            f"Create it by indexing documents with a `retrieval.chroma_index` node (collection `{name}`), or "
            "load the demo knowledge base with `python -m components_catalog.demo_index` "
            "(collection `patchwire-docs`).")


# --- retrieval.chroma_index ----------------------------------------------------------------------------


class IndexParams(EmbeddingParams):
    chunk_size: int = Field(800, ge=20, le=100_000, description="Largest chunk, in characters")
    chunk_overlap: int = Field(100, ge=0, description="Characters a chunk repeats from the end of the previous")
    id_prefix: str = Field("", description="Prepended to every chunk id (ids are a hash of the source "
                           "document id and the chunk number, so re-indexing replaces, never duplicates)")

    @model_validator(mode="after")
    def _overlap_fits(self) -> IndexParams:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size "
                             f"({self.chunk_size})")
        return self


class IndexInputs(BaseModel):
    documents: list[Document] = Field(default_factory=list, description="Documents to index; connect several "
                                      "sources to index them all. Their `id` identifies them on re-index")
    texts: list[str] = Field(default_factory=list, description="Plain texts to index (their id is derived "
                             "from their content)")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Metadata added to every chunk "
                                     "(a document's own metadata wins on the same key)")


class IndexOutputs(BaseModel):
    ids: list[str] = Field(description="The ids of the chunks written, in order")
    chunks: int = Field(description="How many chunks were written")


@component(id="retrieval.chroma_index", version=1, title="Chroma index", category="Retrieval")
class ChromaIndex(EmbeddingEndpointWarnings, Component):
    """Split documents into chunks, embed them and upsert them into a Chroma collection."""

    params: IndexParams

    async def run(self, inputs: IndexInputs, ctx: RunContext) -> IndexOutputs:
        from components_catalog.retrieval import chroma_client as cc

        p = self.params
        sources = _source_documents(inputs)
        chunks = chunk_documents(sources, chunk_size=p.chunk_size, chunk_overlap=p.chunk_overlap,
                                 id_prefix=p.id_prefix, extra_metadata=dict(inputs.metadata or {}))
        if not chunks:
            raise PermanentError(f"Nothing to index into `{p.collection}`: every document and text is blank.")
        client = await cc.call(ctx, cc.get_client)
        ef_config = {"api_base": p.api_base, "api_key_env": p.api_key_env}
        collection = await cc.call(ctx, cc.open_for_indexing, client, p.collection, p.embedding_model, ef_config)
        vectors = await cc.embed(ctx, [c.text for c in chunks], p.embedding_model, api_base=p.api_base,
                                 api_key_env=p.api_key_env)
        removed = await cc.call(ctx, cc.upsert_chunks, collection, chunks, vectors, p.id_prefix)
        ids = [c.id for c in chunks]
        ctx.record("indexing", {"collection": p.collection, "embedding_model": p.embedding_model,
                                "documents": len(sources), "chunks": len(chunks), "ids": ids,
                                "removed_stale_chunks": removed})
        return IndexOutputs(ids=ids, chunks=len(chunks))


def _source_documents(inputs: IndexInputs) -> list[Document]:
    """Documents and texts as Documents, one per id (the last one wins, as an upsert would)."""
    try:  # values from untyped (JSON) sources arrive as dicts
        documents = _DOCUMENTS.validate_python(list(inputs.documents or []))
    except ValidationError as exc:
        raise PermanentError(f"Input `documents` expects a list of Documents (`id`, `text`, optional "
                             f"`metadata`): {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}.") from None
    texts = [str(t) for t in inputs.texts or []]
    documents += [Document(id=text_source_id(t), text=t) for t in texts]
    if not documents:
        raise PermanentError("Nothing to index: inputs `documents` and `texts` are both empty. Connect "
                             "documents (or texts) to this node.")
    return list({d.id: d for d in documents}.values())
