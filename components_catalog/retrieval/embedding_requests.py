"""The litellm embedding request both embedding paths build: the retrieval components' `embed` and the
embedding function a Chroma collection keeps (`chroma_embedding`), so neither imports the other."""

from __future__ import annotations

from typing import Any

__all__ = ["litellm_kwargs", "vectors_of"]


class _NoRetries(int):
    """Zero retries that litellm keeps. Its openai embedding path does `max_retries or DEFAULT_MAX_RETRIES`
    (litellm 1.110, llms/openai/openai.py), turning a plain 0 into 2 hidden retries; the node policy is
    the only retry layer."""

    def __bool__(self) -> bool:
        return True


def litellm_kwargs(model: str, api_base: str | None, api_key: str | None, *, trusted: bool) -> dict[str, Any]:
    """`trusted`: whether `api_base` may receive keys from the environment (`bases.check_model_base`); if
    not, a placeholder key stops litellm from reading the provider's env key by itself."""
    from components_catalog.llm.bases import NO_KEY

    kwargs: dict[str, Any] = {"model": model, "max_retries": _NoRetries(0)}
    if api_base:
        kwargs["api_base"] = api_base
    if api_key or not trusted:
        kwargs["api_key"] = api_key or NO_KEY
    return kwargs


def vectors_of(response: Any) -> list[list[float]]:
    return [list(d["embedding"]) for d in sorted(response.data, key=lambda d: d["index"])]
