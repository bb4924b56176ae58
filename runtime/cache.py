"""Node output cache keyed by an input signature (component, version, params, resolved inputs).

As in ComfyUI, an unchanged node with unchanged inputs is not re-run; only what changed runs.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["NodeCache", "MemoryCache", "cache_key", "default_cache"]


class NodeCache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, outputs: dict[str, Any]) -> None: ...


class MemoryCache:
    """A bounded in-process LRU of node outputs."""

    def __init__(self, max_entries: int = 2048):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        outputs = self._entries.get(key)
        if outputs is not None:
            self._entries.move_to_end(key)
        return outputs

    def put(self, key: str, outputs: dict[str, Any]) -> None:
        self._entries[key] = outputs
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _canonical(value: Any) -> str:
    return json.dumps(to_jsonable_python(value, fallback=repr), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def cache_key(component_id: str, version: int, params: BaseModel, inputs: dict[str, Any], salt: str = "") -> str:
    """A stable hash of what determines a node's outputs (`salt`: more of it, e.g. a subflow's content)."""
    payload = f"{component_id}\x00{version}\x00{_canonical(params)}\x00{_canonical(inputs)}"
    if salt:
        payload += f"\x00{salt}"
    return hashlib.sha256(payload.encode()).hexdigest()


_DEFAULT = MemoryCache()


def default_cache() -> MemoryCache:
    """The process-wide cache used when a run is given none."""
    return _DEFAULT
