"""Patchwire runtime: pipeline specs, validation, the parallel executor and its events.

Pure Python: imports neither reflex nor the component catalog.
"""

from .api import compile, execute, run
from .cache import MemoryCache, NodeCache, cache_key
from .component import Component, ComponentInfo, PortInfo, component
from .context import RunContext
from .errors import ComponentDefinitionError, ComponentError, PermanentError, RetryableError, SecretError
from .events import (ErrorInfo, NodeCached, NodeCancelled, NodeChunk, NodeFailed, NodeFinished, NodeLog,
                     NodeRetrying, NodeSkipped, NodeStarted, RunEvent, RunFinished, RunStarted, event_to_dict)
from .executor import Execution
from .issues import InvalidInputs, InvalidSpec, Issue
from .loading import load_spec, parse_spec
from .plan import Plan
from .registry import ComponentLoadError, Registry, default_registry
from .results import NodeResult, RunResult
from .spec import EdgeSpec, NodePolicy, NodeSpec, PipelineSpec, PortRef, spec_json_schema
from .types import is_assignable, type_label
from .validation import validate

__all__ = [
    "Component", "ComponentInfo", "PortInfo", "component", "RunContext",
    "PipelineSpec", "NodeSpec", "EdgeSpec", "PortRef", "NodePolicy", "spec_json_schema",
    "load_spec", "parse_spec", "validate", "Issue", "InvalidSpec", "InvalidInputs",
    "Registry", "default_registry", "ComponentLoadError",
    "execute", "run", "compile", "Execution", "Plan", "RunResult", "NodeResult",
    "RunEvent", "RunStarted", "NodeStarted", "NodeChunk", "NodeLog", "NodeFinished", "NodeCached",
    "NodeSkipped", "NodeRetrying", "NodeFailed", "NodeCancelled", "RunFinished", "ErrorInfo", "event_to_dict",
    "MemoryCache", "NodeCache", "cache_key",
    "ComponentError", "PermanentError", "RetryableError", "ComponentDefinitionError", "SecretError",
    "is_assignable", "type_label",
]
