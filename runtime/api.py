"""Running pipelines from Python: `execute` streams events, `run` returns the result."""

from __future__ import annotations

from typing import Any

from .cache import NodeCache
from .debug import Debugger
from .executor import Execution
from .plan import Plan, compile_plan
from .plan_cache import plan_cache
from .registry import Registry, default_registry
from .results import ResultCollector, RunResult
from .spec import PipelineSpec

__all__ = ["execute", "run", "compile"]


def compile(spec: PipelineSpec, registry: Registry | None = None) -> Plan:
    """Validate and compile `spec` once, to run it many times. Raises `InvalidSpec`."""
    return compile_plan(spec, registry if registry is not None else default_registry())


def execute(
    spec: PipelineSpec | Plan, inputs: dict[str, Any] | None = None, *, registry: Registry | None = None,
    run_id: str | None = None, cache: NodeCache | None = None, max_concurrency: int | None = None,
    reuse: dict[str, dict[str, Any]] | None = None, pinned: dict[str, dict[str, Any]] | None = None,
    debugger: Debugger | None = None,
) -> Execution:
    """Start a run lazily; iterate the returned object for `RunEvent`s, call `.cancel()` to stop it.

    A spec is validated and compiled once per content: when the same content comes again with the same
    registry, its plan is reused (`runtime.plan_cache`). `reuse` maps node ids to outputs of an earlier
    run ("run from here"); `pinned` maps node ids to mock outputs for development runs; `debugger` pauses
    the run at its breakpoints (`runtime.debug`). Raises `InvalidSpec` or `InvalidInputs` before anything runs.
    """
    plan = spec if isinstance(spec, Plan) else plan_cache().plan(
        spec, registry if registry is not None else default_registry())
    values = plan.resolve_inputs(inputs or {})
    return Execution(plan, values, run_id=run_id, cache=cache, max_concurrency=max_concurrency, reuse=reuse,
                     pinned=pinned, debugger=debugger)


async def run(
    spec: PipelineSpec | Plan, inputs: dict[str, Any] | None = None, *, registry: Registry | None = None,
    run_id: str | None = None, cache: NodeCache | None = None, max_concurrency: int | None = None,
    debugger: Debugger | None = None,
) -> RunResult:
    """Run to completion and return the result (statuses, outputs, per-node details). With a `debugger`,
    something else (another task) decides at its breakpoints (`runtime.debug`)."""
    from .budget import guard_for

    collector = ResultCollector()
    execution = execute(spec, inputs, registry=registry, run_id=run_id, cache=cache, max_concurrency=max_concurrency,
                        debugger=debugger)
    guard = guard_for(execution)  # None: the pipeline has no budget
    await execution.consume(collector, *([guard] if guard else []))
    assert collector.result is not None
    return collector.result
