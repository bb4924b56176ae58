"""Reading and writing run data for the run states, off the event loop: stored runs, pins, presets.

Data only: no Reflex state here (the states call these and keep what they return). The recorder
stores events asynchronously (a writer thread); every read flushes it first, so a node that just
finished is in the database when it is read.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from sqlmodel import col, func, select

from runtime import PipelineSpec, Plan
from runtime.store.db import session
from runtime.store.recorder import RunRecorder
from runtime.store.runs import get_run
from runtime.store.tables import NodeRecord, ReviewTask, RunRecord

from .. import pins as pin_store
from ..run_presets import PresetError, plan_output_types, reuse_outputs, revive
from ..statuses import ENDED_RUN_STATUSES

__all__ = ["read_run", "read_node", "presets", "read_pins", "last_finished_run", "pending_reviews"]

_DONE = sorted(ENDED_RUN_STATUSES)


def _flush() -> None:
    RunRecorder().flush(5.0)


async def read_run(run_id: str) -> tuple[RunRecord, dict[str, NodeRecord]] | None:
    def read() -> Any:
        _flush()
        return get_run(run_id)

    return await asyncio.to_thread(read)


def _read_node(run_id: str, node_id: str) -> NodeRecord | None:
    _flush()
    with session() as s:
        return s.get(NodeRecord, (run_id, node_id))


async def read_node(run_id: str, node_id: str) -> NodeRecord | None:
    return await asyncio.to_thread(_read_node, run_id, node_id)


def last_finished_run(pipeline_id: str, preferred: str = "") -> RunRecord | None:
    """The run "Run from here" reuses: the one this tab shows if it has ended, else the latest that ended."""
    _flush()
    with session() as s:
        if preferred:
            run = s.get(RunRecord, preferred)
            if run is not None and run.pipeline_id == pipeline_id and run.status in _DONE:
                return run
        query = (select(RunRecord).where(RunRecord.pipeline_id == pipeline_id, col(RunRecord.status).in_(_DONE))
                 .order_by(col(RunRecord.started_at).desc()).limit(1))
        return s.exec(query).first()


def _reuse(plan: Plan, pipeline_id: str, inputs: dict[str, Any], start: str, current: str
           ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    if start not in plan.by_id:
        return {}, [f"Node `{start}` is not in the pipeline any more: select a node and try again."]
    last = last_finished_run(pipeline_id, current)
    if last is None:
        return {}, ["“Run from here” reuses the last run's outputs, and this pipeline has not run yet: press Run."]
    with session() as s:
        nodes = s.exec(select(NodeRecord).where(NodeRecord.run_id == last.id))
        outputs = {n.node_id: n.outputs for n in nodes if n.status in ("succeeded", "cached") and n.outputs is not None}
    try:
        last_spec = PipelineSpec.model_validate(last.spec)
    except Exception:  # noqa: BLE001 - an unreadable old spec: reuse nothing, run everything
        return {}, []
    return reuse_outputs(plan, start, last_spec, outputs, inputs, last.inputs or {}), []


def _presets(plan: Plan, pipeline_id: str, inputs: dict[str, Any], start: str | None, current: str, *,
             pins: dict[str, pin_store.PinRecord] | None = None) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    pinned: dict[str, dict[str, Any]] = {}
    for node_id, row in (pin_store.list_pins(pipeline_id) if pins is None else pins).items():
        if node_id not in plan.by_id:
            continue
        try:
            pinned[node_id] = revive(plan_output_types(plan, node_id), node_id, row.outputs)
        except PresetError as exc:
            problems.append(f"The output pinned on `{node_id}` no longer fits the node: {exc} Unpin it (select "
                            "the node, “Unpin”) or pin a new output.")
    reuse: dict[str, dict[str, Any]] = {}
    if start is not None:
        reuse, more = _reuse(plan, pipeline_id, inputs, start, current)
        problems += more
    return {"pinned": pinned or None, "reuse": reuse or None}, problems


async def presets(plan: Plan, pipeline_id: str, inputs: dict[str, Any], start: str | None, current: str, *,
                  pins: dict[str, pin_store.PinRecord] | None = None) -> tuple[dict[str, Any], list[str]]:
    """`pinned=` and `reuse=` for `live_runs().start`, or the problems that stop the run (`pins`: the pipeline's
    stored pins when the caller has just read them)."""
    return await asyncio.to_thread(functools.partial(_presets, pins=pins), plan, pipeline_id, inputs, start, current)


async def read_pins(pipeline_id: str) -> dict[str, pin_store.PinRecord]:
    """The pipeline's pins, by node id."""
    return await asyncio.to_thread(pin_store.list_pins, pipeline_id) if pipeline_id else {}


def pending_reviews() -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "pending")).one())
