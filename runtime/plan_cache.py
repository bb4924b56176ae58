"""Compiled plans reused when `run(spec)` / `execute(spec)` sees the same spec content again.

Keyed by content, never identity: a hash of the spec's JSON plus the registry and its `generation`
(components added later change the key). A cached plan is compiled from a private copy rebuilt from
that JSON, so mutating the caller's spec object afterwards cannot change it. A spec whose JSON does not
round-trip to an equal spec (params holding tuples, sets, objects, inf...) is compiled uncached, so
`run(spec)` always gives what `compile(spec)` would.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from .plan import Plan, compile_plan
from .registry import Registry
from .spec import PipelineSpec

__all__ = ["PlanCache", "plan_cache", "MAX_PLANS"]

MAX_PLANS = 64


class PlanCache:
    """A bounded LRU of compiled plans, safe to share between threads."""

    def __init__(self, max_plans: int = MAX_PLANS):
        self.max_plans = max_plans
        self._plans: OrderedDict[tuple[bytes, int, int], tuple[Registry, Plan]] = OrderedDict()
        self._lock = threading.Lock()

    def plan(self, spec: PipelineSpec, registry: Registry) -> Plan:
        """The compiled plan of `spec`'s content for `registry`; validates and compiles on a miss
        (raising `InvalidSpec`, which is never cached)."""
        try:
            content = spec.__pydantic_serializer__.to_json(spec, warnings=False)
        except PydanticSerializationError:  # a param Python can hold but JSON cannot: nothing to key by
            return compile_plan(spec, registry)
        key = (hashlib.sha256(content).digest(), id(registry), registry.generation)
        with self._lock:
            entry = self._plans.get(key)
            if entry is not None and entry[0] is registry:  # the entry holds the registry: its id is not reused
                self._plans.move_to_end(key)
                return entry[1]
        private = _faithful_copy(spec, content)
        if private is None:
            return compile_plan(spec, registry)
        plan = compile_plan(private, registry)
        with self._lock:
            self._plans[key] = (registry, plan)
            while len(self._plans) > self.max_plans:
                self._plans.popitem(last=False)
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)


def _faithful_copy(spec: PipelineSpec, content: bytes) -> PipelineSpec | None:
    """A copy of `spec` sharing no objects with it, or None when JSON loses something of it."""
    try:
        private = type(spec).model_validate_json(content)
    except ValidationError:  # e.g. a position or param JSON cannot hold
        return None
    if type(spec) is not PipelineSpec:
        return private if private == spec else None
    # Every other field is a str, int or strict model that JSON holds exactly: compare only what can differ
    # (a tuple param that came back a list, an infinite timeout that came back null).
    same = all(mine.params == theirs.params and mine.policy == theirs.policy
               for mine, theirs in zip(spec.nodes, private.nodes, strict=True))
    return private if same else None


_DEFAULT = PlanCache()


def plan_cache() -> PlanCache:
    """The process-wide plan cache `run(spec)` and `execute(spec)` use."""
    return _DEFAULT
