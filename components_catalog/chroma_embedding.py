"""The offline MiniLM embedder as a chromadb embedding function.

Kept apart from `embeddings.py` so that importing the embedder does not import chromadb. Chroma's own
default embedding function downloads its model at first use; pass this one to every collection instead:
`client.get_or_create_collection("docs", embedding_function=MiniLMEmbeddingFunction())`.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from components_catalog.embeddings import MAX_SEQUENCE_TOKENS, default_embedder

__all__ = ["MiniLMEmbeddingFunction"]


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (ONNX int8) from installed packages; registered as `patchwire-minilm`, so a
    persisted collection reopens with the same function."""

    def __init__(self) -> None:
        # No state of its own: the model is the process-wide `default_embedder()`, loaded on first call.
        pass

    def __call__(self, input: Documents) -> Embeddings:
        vectors = default_embedder().embed(list(input))
        return list(vectors)

    @staticmethod
    def name() -> str:
        return "patchwire-minilm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    def max_tokens(self) -> int:
        return MAX_SEQUENCE_TOKENS

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config:
            raise ValueError(f"`patchwire-minilm` takes no configuration, got keys: {sorted(config)}.")
