"""`patchwire eval --engine ray`: an experiment's rows as Ray tasks, through the batch runner's Ray engine.

The experiment travels as JSON (the suite with its ports resolved, the spec, the rows' mocks), never as
the dataset file or a database URL. Each worker process rebuilds the pipeline and the assertion probes once
and runs its rows through the very same `eval_row` as the local engine, so the records are the same apart
from run ids and timings. Runs are recorded (source `eval`) in the workers' `DATABASE_URL`: a local Ray
inherits this process's, a cluster gets it from the driver (`ray_engine.forwarded_env`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..batch.runner import Row
from .runner import Prepared, eval_row

__all__ = ["run_rows_on_ray", "eval_chunk", "experiment_json"]

_PREPARED: dict[tuple[str, tuple[str, ...]], Prepared] = {}  # per worker process: built once, reused by tasks


def experiment_json(prep: Prepared) -> str:
    """What a worker needs to run rows of this experiment."""
    return json.dumps({"suite": json.loads(prep.suite.canonical_json()), "spec": prep.spec,
                       "pipeline_id": prep.pipeline_id, "row_mocks": prep.row_mocks}, sort_keys=True)


def _prepared(payload: str, plugins: tuple[str, ...]) -> Prepared:
    key = (hashlib.sha256(payload.encode()).hexdigest(), plugins)
    prep = _PREPARED.get(key)
    if prep is None:
        from ..api import compile
        from ..registry import default_registry
        from ..spec import PipelineSpec
        from .probes import PROBE_TYPES, Probe
        from .suite import Suite

        data = json.loads(payload)
        registry = default_registry(plugins)
        suite = Suite.model_validate(data["suite"])
        plan = compile(PipelineSpec.model_validate(data["spec"]), registry)
        probes = {a.name: Probe(a, registry) for a in suite.assertions if a.type in PROBE_TYPES}
        prep = _PREPARED[key] = Prepared(suite, plan, data["spec"], "", Path(), "", [], probes,
                                         data["pipeline_id"], row_mocks=data["row_mocks"])
    return prep


def eval_chunk(payload: str, plugins: tuple[str, ...], rows: list[Row], concurrency: int,
               record: bool = True) -> list[dict[str, Any]]:
    """A Ray task: the eval records of `rows` (at most `concurrency` at once)."""
    from ..consumers import default_consumers, flush_records

    prep = _prepared(payload, plugins)
    consumers = default_consumers("eval", record=record, pipeline_id=prep.pipeline_id)

    async def run_all() -> list[dict[str, Any]]:
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(row: Row) -> dict[str, Any]:
            async with limit:
                return await eval_row(prep, row, consumers)

        return list(await asyncio.gather(*(one(row) for row in rows)))

    try:
        return asyncio.run(run_all())
    finally:
        flush_records()  # the task's runs are stored before it reports its rows done


def run_rows_on_ray(prep: Prepared, todo: Sequence[Row], on_record: Callable[[dict[str, Any]], None],
                    plugins: Sequence[str], address: str | None) -> int:
    """Run `todo` on Ray (a local one, or the cluster at `address`); how many rows were lost to failed tasks."""
    from ..batch.ray_engine import run_ray

    return run_ray(experiment_json(prep), plugins, todo, prep.suite.concurrency, address, on_record, record=True,
                   chunk_task=eval_chunk)
