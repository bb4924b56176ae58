"""What a node attempt failed with: a time limit named as such, a wrong return type, and when to retry."""

from __future__ import annotations

import asyncio
from typing import Any

from .deadlines import default_timeout_message
from .inputs import short_repr
from .plan import PlanNode

__all__ = ["NodeOutputTypeError", "attempt_error", "wrong_output", "retry_delay"]


class NodeOutputTypeError(TypeError):
    """`run` returned something other than an instance of its outputs model."""

    retryable = False


def attempt_error(exc: Exception, node: PlanNode, timer: asyncio.Timeout | None,
                  default_limit: float | None) -> Exception:
    """What an attempt failed with, a time limit named as such."""
    if default_limit is not None:  # the default limit cancelled it and the component raised its own error
        return TimeoutError(default_timeout_message(default_limit))
    if isinstance(exc, TimeoutError) and timer is not None and timer.expired():
        return TimeoutError(f"timed out after {node.policy.timeout_s:g} s (policy.timeout_s)")
    return exc


def wrong_output(node: PlanNode, out: Any) -> NodeOutputTypeError:
    return NodeOutputTypeError(
        f"Node `{node.id}` (`{node.component_id}`): `run` must return {node.outputs_model.__name__}, "
        f"but it returned {type(out).__name__}: {short_repr(out)}.")


def retry_delay(backoff: float, attempt: int, exc: BaseException) -> float:
    delay = backoff * (2 ** (attempt - 1))
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        delay = max(delay, float(retry_after))
    return delay


