"""What is installed: the component registry (built-ins, catalog, plugins) and the models to pick from."""

from __future__ import annotations

import functools
import logging

from runtime import Registry, default_registry

__all__ = ["registry", "usable_models"]

log = logging.getLogger(__name__)


def registry() -> Registry:
    """Entry points plus `PATCHWIRE_PLUGINS`, loaded once per process (failures kept in `.problems`)."""
    return default_registry()


@functools.lru_cache(maxsize=1)
def usable_models() -> tuple[dict[str, str], ...]:
    """Model choices ({name, label}) for the inspector's model picker; free text is always allowed too.

    `components_catalog.llm.model_list.usable_models()` when the catalog provides it, else none. It imports
    litellm (seconds), so callers run it in a thread, once per process.
    """
    try:
        from components_catalog.llm.model_list import usable_models as catalog_models
    except ImportError:
        return ()
    try:
        options = catalog_models()
    except Exception:
        log.exception("components_catalog.llm.model_list.usable_models() failed; the model picker offers free text only")
        return ()
    return tuple({"name": str(getattr(o, "name", o)), "label": str(getattr(o, "label", "") or getattr(o, "name", o))}
                 for o in options)
