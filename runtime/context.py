"""What a running component may ask of the runtime: ids, attempt, streaming, threads, secrets."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import SecretError
from .secrets import DEFAULT_ALLOWED_PATTERNS, allowed_secret_patterns, is_allowed_secret_name, redact_text
from .secrets import secret_env_values as _secret_env_values

__all__ = ["RunContext", "allowed_secret_patterns", "env_secret_values"]

T = TypeVar("T")
_new = object.__new__
DEFAULT_SECRET_PATTERNS = DEFAULT_ALLOWED_PATTERNS  # kept for imports of the old name


def env_secret_values() -> set[str]:
    """Values of the environment's secret variables (the one rule in `runtime.secrets`), to redact even
    when a library (not `ctx.secret`) read them, e.g. litellm reading OPENAI_API_KEY."""
    return set(_secret_env_values())


class RunContext:
    """Handed to `Component.run` for one attempt of one node."""

    __slots__ = ("run_id", "node_id", "component_id", "attempt", "pipeline_inputs", "trace", "execution", "_sink",
                 "_secrets")

    def __init__(
        self, *, run_id: str, node_id: str, component_id: str, attempt: int = 1,
        pipeline_inputs: Mapping[str, Any] | None = None,
        sink: Callable[[str, str, Any], None] | None = None, secrets: set[str] | None = None,
        execution: Any = None,
    ):
        self.run_id = run_id
        self.node_id = node_id
        self.component_id = component_id
        self.attempt = attempt
        self.pipeline_inputs = pipeline_inputs or {}
        self.trace: dict[str, Any] = {}
        self.execution = execution  # the run this node belongs to: flow nodes run sub-runs inside it
        self._sink = sink
        self._secrets = secrets if secrets is not None else set()

    @classmethod
    def _for_attempt(cls, run_id: str, node_id: str, component_id: str, attempt: int,
                     pipeline_inputs: Mapping[str, Any], sink: Callable[[str, str, Any], None] | None,
                     secrets: set[str], execution: Any = None) -> RunContext:
        """The executor's constructor: what `__init__` does, for one node attempt, with half its cost."""
        ctx = _new(cls)
        ctx.run_id, ctx.node_id, ctx.component_id, ctx.attempt = run_id, node_id, component_id, attempt
        ctx.pipeline_inputs, ctx.trace, ctx._sink, ctx._secrets = pipeline_inputs, {}, sink, secrets
        ctx.execution = execution
        return ctx

    @property
    def node_path(self) -> str:
        """Where this node sits in the run: its id at the top level, `map1/3/summarise` inside a flow node
        (the `node_id` of its forwarded events and the `patchwire.node.path` of its span)."""
        return getattr(self.execution, "node_prefix_text", "") + self.node_id

    def emit_chunk(self, text: str) -> None:
        """Stream a piece of partial output (e.g. model tokens) to every event consumer."""
        if self._sink is not None:
            self._sink("chunk", self.node_id, text)

    def log(self, message: str, **data: Any) -> None:
        """Write a record to the run log, attached to this node."""
        if self._sink is not None:
            self._sink("log", self.node_id, {"message": self.redact(message), **data})

    def record(self, key: str, value: Any) -> None:
        """Attach inspection data (messages sent, model, usage, network calls) to this node's result."""
        self.trace[key] = value

    async def to_thread(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking or CPU-bound work off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def secret(self, name: str) -> str:
        """The value of env var `name`, if the operator allowed it (`PATCHWIRE_SECRETS`)."""
        if not is_allowed_secret_name(name):
            patterns = allowed_secret_patterns()
            raise SecretError(
                f"Node `{self.node_id}` asked for secret `{name}`, which is not allowed. "
                f"Allowed: {', '.join(patterns) or 'none'}. Add it to PATCHWIRE_SECRETS to allow it.")
        value = os.environ.get(name)
        if not value:
            raise SecretError(f"Node `{self.node_id}` needs secret `{name}`, but that environment variable "
                              "is not set. Set it where the pipeline runs.")
        self._secrets.add(value)
        return value

    def redact(self, text: str) -> str:
        """`text` with every secret value this run has read, and the environment's, replaced by `***`."""
        return redact_text(text, self._secrets)
