"""Which provider a model string belongs to, which env vars carry its key, and loading litellm.

The one module the model components, their error mapping and the model picker share (by name only:
litellm's own provider lookups can start a device login for some providers).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["LOCAL_PREFIX", "is_local_model", "litellm_ready", "load_litellm", "provider_key_envs", "provider_of"]

LOCAL_PREFIX = "local/"
_load_lock = threading.Lock()
_KEY_ENVS: dict[str, tuple[str, ...]] = {
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_AI_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "cohere_chat": ("COHERE_API_KEY",),
    "fireworks_ai": ("FIREWORKS_AI_API_KEY", "FIREWORKSAI_API_KEY"),
    "huggingface": ("HUGGINGFACE_API_KEY", "HF_TOKEN"),
}


def is_local_model(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)


def load_litellm() -> ModuleType:
    """Import litellm with the bundled cost map (else it fetches one online) and quiet its stdout banners
    ("Provider List: ...", which it prints for every model it has no provider for, `local/...` included).

    Call it on every use, not only the first: whoever imported litellm first may have left the banners on.
    One thread imports at a time: concurrent first imports of litellm and its submodules fail with
    "partially initialized module" errors."""
    with _load_lock:
        if "litellm" not in sys.modules:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        litellm: Any = importlib.import_module("litellm")
        litellm.suppress_debug_info = True
        return litellm


def litellm_ready() -> bool:
    """Whether litellm is imported completely, so `load_litellm()` returns at once (else: in a thread)."""
    module = sys.modules.get("litellm")
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def provider_key_envs(provider: str) -> list[str]:
    """The env var names that carry `provider`'s API key (litellm's naming)."""
    if provider in _KEY_ENVS:
        return list(_KEY_ENVS[provider])
    names = [f"{provider.upper()}_API_KEY", f"{provider.replace('_', '').upper()}_API_KEY"]
    return list(dict.fromkeys(n.replace("-", "_") for n in names))


def provider_of(model: str, litellm: Any = None) -> str:
    """`openai` for `openai/gpt-4o` and (from litellm's price list) for a bare `gpt-4o`; else ''."""
    if "/" in model:
        return model.split("/", 1)[0]
    litellm = litellm or sys.modules.get("litellm")
    info = litellm.model_cost.get(model, {}) if litellm is not None else {}
    return str(info.get("litellm_provider", ""))
