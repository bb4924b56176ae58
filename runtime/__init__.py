"""Patchwire runtime: pipeline specs, validation, the parallel executor and its events.

Pure Python: imports neither reflex nor the component catalog. Names load on first use, so a
component module (or exported plain-Python code) importing `Component` never loads the executor.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The component contract loads eagerly (it is light, and `runtime.component` must be the decorator,
# not the submodule of the same name); everything else on first use.
from .component import Component, ComponentInfo, PortInfo, component
from .context import RunContext
from .errors import ComponentDefinitionError, ComponentError, PermanentError, RetryableError, SecretError
from .types import is_assignable, type_label

_EAGER = ["Component", "ComponentInfo", "PortInfo", "component", "RunContext", "ComponentDefinitionError",
          "ComponentError", "PermanentError", "RetryableError", "SecretError", "is_assignable", "type_label"]
_EXPORTS = {
    "api": ["compile", "execute", "run"],
    "cache": ["MemoryCache", "NodeCache", "cache_key"],
    "debug": ["Debugger", "InputEditError"],
    "events": ["ErrorInfo", "NodeCached", "NodeCancelled", "NodeChunk", "NodeFailed", "NodeFinished", "NodeLog",
               "NodePaused", "NodeResumed", "NodeRetrying", "NodeSkipped", "NodeStarted", "RunEvent", "RunFinished",
               "RunStarted", "event_to_dict"],
    "executor": ["Execution"],
    "issues": ["InvalidInputs", "InvalidSpec", "Issue"],
    "loading": ["load_spec", "parse_spec"],
    "plan": ["Plan"],
    "registry": ["ComponentLoadError", "Registry", "default_registry"],
    "results": ["NodeResult", "RunResult"],
    "spec": ["EdgeSpec", "NodePolicy", "NodeSpec", "PipelineSpec", "PortRef", "spec_json_schema"],
    "validation": ["validate"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "Component", "ComponentDefinitionError", "ComponentError", "ComponentInfo", "ComponentLoadError", "Debugger",
    "EdgeSpec", "ErrorInfo", "Execution", "InputEditError", "InvalidInputs", "InvalidSpec", "Issue", "MemoryCache",
    "NodeCache", "NodeCached", "NodeCancelled", "NodeChunk", "NodeFailed", "NodeFinished", "NodeLog", "NodePaused",
    "NodePolicy", "NodeResumed",
    "NodeResult", "NodeRetrying", "NodeSkipped", "NodeSpec", "NodeStarted", "PermanentError", "PipelineSpec",
    "Plan", "PortInfo", "PortRef", "Registry", "RetryableError", "RunContext", "RunEvent", "RunFinished",
    "RunResult", "RunStarted", "SecretError", "cache_key", "compile", "component", "default_registry",
    "event_to_dict", "execute", "is_assignable", "load_spec", "parse_spec", "run", "spec_json_schema",
    "type_label", "validate",
]
assert set(__all__) == {*_EAGER, *_WHERE}, "keep __all__ in step with the exports"


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .api import compile, execute, run
    from .cache import MemoryCache, NodeCache, cache_key
    from .debug import Debugger, InputEditError
    from .events import (
        ErrorInfo,
        NodeCached,
        NodeCancelled,
        NodeChunk,
        NodeFailed,
        NodeFinished,
        NodeLog,
        NodePaused,
        NodeResumed,
        NodeRetrying,
        NodeSkipped,
        NodeStarted,
        RunEvent,
        RunFinished,
        RunStarted,
        event_to_dict,
    )
    from .executor import Execution
    from .issues import InvalidInputs, InvalidSpec, Issue
    from .loading import load_spec, parse_spec
    from .plan import Plan
    from .registry import ComponentLoadError, Registry, default_registry
    from .results import NodeResult, RunResult
    from .spec import EdgeSpec, NodePolicy, NodeSpec, PipelineSpec, PortRef, spec_json_schema
    from .validation import validate
