"""What a long-running host (the editor) may load ahead of the first run, so that run is not the one paying.

Each step is what the first model, embedding or retrieval node would otherwise do on its own: import
litellm and register the offline `local/*` models, load the MiniLM embedder (and run it once), open the
embedded Chroma. Nothing here runs on import; a one-shot CLI never calls it (it stays lazy).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["warm_up_steps"]


_MESSAGES = [{"role": "system", "content": "Answer from the context."},
             {"role": "user", "content": "Context:\nPatchwire runs pipelines.\n\nQuestion: What runs pipelines?"}]


def _litellm() -> None:
    """Import litellm (offline cost map), route `local/*`, and make one call of each kind the chat node makes
    to the offline `local/extractive` model: litellm's first call imports and builds much of its call path."""
    import asyncio

    from components_catalog.llm.local_model import ensure_registered
    from components_catalog.llm.providers import load_litellm

    ensure_registered()
    litellm = load_litellm()

    async def calls() -> None:
        await litellm.acompletion(model="local/extractive", messages=_MESSAGES, max_tokens=32)
        stream = await litellm.acompletion(model="local/extractive", messages=_MESSAGES, max_tokens=32, stream=True,
                                           stream_options={"include_usage": True})
        async for _chunk in stream:
            pass

    asyncio.run(calls())


def _embedder() -> None:
    from components_catalog.embeddings import count_tokens, default_embedder

    # The first inferences build ONNX Runtime's kernels (per batch shape); the counting tokenizer loads apart.
    default_embedder().embed(["warm up", "A longer sentence, about as long as one in a retrieved document. " * 3])
    count_tokens("warm up")


def _chroma() -> None:
    from components_catalog.retrieval.chroma_client import get_client, place

    if place()[0] == "path":  # a Chroma server is not contacted ahead of a run: no hidden network calls
        get_client().list_collections()


def warm_up_steps() -> list[tuple[str, Callable[[], None]]]:
    """(name, blocking function) per step, in order."""
    return [("litellm", _litellm), ("embedding model", _embedder), ("Chroma", _chroma)]
