"""Human-readable progress for `patchwire run`: one line per node as it happens, then the outputs."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .events import NodeCached, NodeCancelled, NodeFailed, NodeFinished, NodeRetrying, NodeSkipped
from .executor import Execution
from .plan import Plan
from .results import ResultCollector, RunResult, jsonable

__all__ = ["run_with_progress", "print_outputs", "describe_event"]


def describe_event(event: Any) -> str | None:
    """One progress line for a node event, or None for events not worth a line."""
    kind = event.__class__
    if kind is NodeFinished:
        return f"  ok       {event.node_id:<24} {event.latency_ms:9.1f} ms"
    if kind is NodeCached:
        return f"  cached   {event.node_id:<24} {'':>9}    (reused earlier outputs)"
    if kind is NodeSkipped:
        return f"  skipped  {event.node_id:<24} {'':>9}    {event.reason}"
    if kind is NodeFailed:
        handled = " (handled)" if event.handled else ""
        return (f"  FAILED   {event.node_id:<24} {event.latency_ms:9.1f} ms {event.error.type}: "
                f"{event.error.message}{handled}")
    if kind is NodeRetrying:
        return (f"  retry    {event.node_id:<24} attempt {event.attempt} in {event.delay_s:g} s after "
                f"{event.error.type}: {event.error.message}")
    if kind is NodeCancelled:
        return f"  cancelled {event.node_id:<23} {'':>9}    {event.reason}"
    return None


async def run_with_progress(plan: Plan, inputs: dict[str, Any], *, quiet: bool = False,
                            stream: TextIO | None = None) -> RunResult:
    out = stream or sys.stderr
    collector = ResultCollector()
    async with Execution(plan, plan.resolve_inputs(inputs)) as events:
        async for event in events:
            collector(event)
            if not quiet:
                line = describe_event(event)
                if line:
                    print(line, file=out, flush=True)
    assert collector.result is not None
    return collector.result


def print_outputs(result: RunResult, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    latency = f"{result.latency_ms:.1f} ms" if result.latency_ms is not None else "-"
    print(f"run {result.run_id}: {result.status} in {latency}", file=sys.stderr)
    if result.error:
        print(f"error: {result.error['message']}", file=sys.stderr)
    for node_id, value in result.outputs.items():
        text = value if isinstance(value, str) else json.dumps(jsonable(value), indent=2, ensure_ascii=False)
        print(f"{node_id}: {text}", file=out)
