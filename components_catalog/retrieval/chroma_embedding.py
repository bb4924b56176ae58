"""The offline MiniLM embedder as a chromadb embedding function.

Kept apart from `embeddings.py` so that importing the embedder does not import chromadb. Chroma's own
default embedding function downloads its model at first use; pass this one to every collection instead:
`client.get_or_create_collection("docs", embedding_function=MiniLMEmbeddingFunction())`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from components_catalog.embeddings import MAX_SEQUENCE_TOKENS, default_embedder

__all__ = ["LiteLLMEmbeddingFunction", "MiniLMEmbeddingFunction"]


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


@register_embedding_function
class LiteLLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Any litellm embedding model (`text-embedding-3-small`, `openai/...`); registered as
    `patchwire-litellm`. Its config holds the NAME of the API key's env var, never the key.

    The retrieval components embed through `litellm.aembedding` themselves (recorded, with the node's
    secrets); this function is what a collection made for such a model keeps in its configuration."""

    def __init__(self, model: str, api_base: str | None = None, api_key_env: str | None = None) -> None:
        self.model, self.api_base, self.api_key_env = model, api_base, api_key_env

    def __call__(self, input: Documents) -> Embeddings:
        import os

        from components_catalog.llm.bases import check_model_base_blocking
        from components_catalog.llm.providers import load_litellm
        from components_catalog.retrieval.embedding_requests import litellm_kwargs, vectors_of

        base = check_model_base_blocking(self.model, self.api_base, self.api_key_env)  # the same egress guard
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        kwargs = litellm_kwargs(self.model, self.api_base, key, trusted=base.trusted)
        response = load_litellm().embedding(input=list(input), **kwargs)
        return [np.asarray(v, dtype=np.float32) for v in vectors_of(response)]

    @staticmethod
    def name() -> str:
        return "patchwire-litellm"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LiteLLMEmbeddingFunction:
        return LiteLLMEmbeddingFunction(config["model"], config.get("api_base"), config.get("api_key_env"))

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "api_base": self.api_base, "api_key_env": self.api_key_env}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model"), str):
            raise ValueError("`patchwire-litellm` needs `model`, a litellm embedding model name.")
