"""Running an experiment: every dataset row through the pipeline (the batch runner), then its assertions.

`prepare()` loads the suite, the pipeline and the dataset and checks them together (`InvalidSuite` with every
problem). `run_rows()` runs the rows not yet done: each finished row is one fsynced line of a work file named
by the suite, spec and dataset hashes, so an interrupted `patchwire eval` (even SIGKILL) resumes where it
stopped without running or counting a row twice. Runs are recorded with source `eval`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batch.runner import Row, read_dataset, row_inputs
from ..consumers import ConsumerFactory, run_with_consumers
from ..issues import InvalidInputs, InvalidSpec, Issue
from ..results import jsonable
from ..secrets import env_redactor
from ..text import bounded
from .assertions import Outcome, RunView, check
from .checks import MOCKS_COLUMN, check_suite, output_ports, resolve_ports
from .diff import spec_sha256
from .probes import PROBE_TYPES, Probe
from .suite import InvalidSuite, Suite, load_suite, sha256_file
from .variance import repeat_fields

__all__ = ["Prepared", "prepare", "prepare_suite", "run_rows", "run_rows_async", "eval_row", "spec_sha256", "work_file"]


@dataclass
class Prepared:
    suite: Suite
    plan: Any
    spec: dict[str, Any]
    spec_sha256: str
    dataset_path: Path
    dataset_sha256: str
    rows: list[Row]
    probes: dict[str, Probe]
    pipeline_id: str | None = None
    version: int | None = None
    row_mocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # row key -> its mocks
    work_path: Path | None = None  # the resumable results file, while it runs


def prepare(suite_path: str | Path, registry: Any, *, pipeline_override: str | None = None) -> Prepared:
    suite, base = load_suite(suite_path)
    return prepare_suite(suite, base, registry, pipeline_override=pipeline_override)


def prepare_suite(suite: Suite, base: Path, registry: Any, *, pipeline_override: str | None = None,
                  spec: dict[str, Any] | None = None) -> Prepared:
    """Raise `InvalidSuite` with every problem of the suite, its pipeline and its dataset.

    `spec`: evaluate this spec (the editor's, maybe not saved yet) as the suite's `pipeline_id`."""
    from ..api import compile
    from ..batch.runner import BatchError

    if spec is not None:
        spec_dict, pipeline_id, version = spec, suite.pipeline_id, suite.version
    else:
        spec_dict, pipeline_id, version = _load_pipeline(suite, base, pipeline_override)
    dataset = (base / suite.dataset) if not Path(suite.dataset).is_absolute() else Path(suite.dataset)
    try:
        rows = read_dataset(dataset)
    except BatchError as exc:
        raise InvalidSuite([Issue(code="bad_dataset", path="dataset", message=str(exc),
                                  hint="Fix the dataset file, or point `dataset:` at another one.")]) from None
    from ..spec import PipelineSpec

    try:
        plan = compile(PipelineSpec.model_validate(spec_dict), registry)
    except InvalidSpec as exc:
        raise InvalidSuite([i for i in exc.issues if i.severity == "error"]) from None
    columns = {name for row in rows for name in row.values}
    resolve_ports(suite, plan)
    issues, probes = check_suite(suite, plan, columns, registry)
    row_mocks, mock_issues = _row_mocks(rows, plan)
    if not rows:
        issues.append(Issue(code="empty_dataset", path="dataset", message=f"`{dataset}` has no rows.",
                            hint="An experiment needs at least one row (one JSON object per line, or CSV rows)."))
    if issues or mock_issues:
        raise InvalidSuite(issues + mock_issues)
    return Prepared(suite, plan, spec_dict, spec_sha256(spec_dict), dataset, sha256_file(dataset), rows, probes,
                    pipeline_id, version, row_mocks)


def _load_pipeline(suite: Suite, base: Path, override: str | None) -> tuple[dict[str, Any], str | None, int | None]:
    from ..loading import load_spec

    if override or suite.pipeline:
        path = Path(override) if override else base / str(suite.pipeline)
        try:
            return load_spec(path).model_dump(mode="json", exclude_none=True), None, None
        except InvalidSpec as exc:
            raise InvalidSuite([i for i in exc.issues if i.severity == "error"]) from None
    from ..store.pipelines import PipelineNotFound, get_pipeline, get_version

    try:
        if suite.version is not None:
            saved = get_version(suite.version)
            return saved.spec, saved.pipeline_id, saved.id
        return get_pipeline(str(suite.pipeline_id)).spec, suite.pipeline_id, None
    except PipelineNotFound as exc:
        raise InvalidSuite([Issue(code="unknown_pipeline", path="pipeline_id", message=str(exc),
                                  hint="List saved pipelines in the editor, or use `pipeline:` with a spec file.")]) \
            from None


def _row_mocks(rows: list[Row], plan: Any) -> tuple[dict[str, dict[str, Any]], list[Issue]]:
    mocks, issues = {}, []
    for row in rows:
        given = row.values.get(MOCKS_COLUMN)
        if given in (None, ""):
            continue
        where = f"row {row.id if row.id is not None else row.index}"
        if isinstance(given, str):
            try:
                given = json.loads(given)
            except json.JSONDecodeError as exc:
                issues.append(Issue(code="bad_mocks", message=f"{where}: the `mocks` column is not JSON ({exc.msg}).",
                                    hint='It maps node ids to outputs, e.g. {"generate": {"text": "..."}}.'))
                continue
        if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
            issues.append(Issue(code="bad_mocks", message=f"{where}: `mocks` must map node ids to output objects.",
                                hint='e.g. {"generate": {"text": "..."}}.'))
            continue
        for node_id, outputs in given.items():
            if node_id not in plan.by_id:
                issues.append(Issue(code="unknown_node", node_id=node_id, message=f"{where}: `mocks` sets `{node_id}`, "
                                    "which is not a node of the pipeline.", hint=f"Nodes: {', '.join(plan.by_id)}."))
            elif bad := sorted(set(outputs) - set(output_ports(plan, node_id))):
                issues.append(Issue(code="unknown_port", node_id=node_id, port=bad[0],
                                    message=f"{where}: `mocks.{node_id}` sets `{bad[0]}`, which `{node_id}` does not have.",
                                    hint=f"Its output ports: {', '.join(output_ports(plan, node_id))}."))
        mocks[row.key] = given
    return mocks, issues


def work_file(prep: Prepared, folder: Path) -> Path:
    key = hashlib.sha256(f"{prep.suite.canonical_json()}|{prep.spec_sha256}|{prep.dataset_sha256}".encode())
    return folder / f"{_slug(prep.suite.name)}-{key.hexdigest()[:16]}.jsonl"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60] or "suite"


def _mapped(prep: Prepared, row: Row) -> Row:
    values = {name: row.values[prep.suite.inputs.get(name, name)] for name in prep.plan.inputs
              if prep.suite.inputs.get(name, name) in row.values}
    return Row(row.index, row.id, values, row.from_csv)


def _small(value: Any) -> Any:
    """A JSON copy with long texts and lists cut (kept in every row's record, for every assertion)."""
    if value is None or isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 300):
        return value  # most values: nothing to convert or cut
    return bounded(jsonable(value), limit=300, items=20)[0]


async def eval_row(prep: Prepared, row: Row, consumers: Sequence[ConsumerFactory]) -> dict[str, Any]:
    """One row's record: its runs (repeat times) and every assertion's result."""
    record: dict[str, Any] = {"row": row.index, **({"id": row.id} if row.id is not None else {})}
    mapped = _mapped(prep, row)
    try:
        inputs = row_inputs(prep.plan, mapped)
    except InvalidInputs as exc:
        message = " ".join(exc.texts())
        failed = {a.name: {"passed": False, "actual": None, "expected": None, "message": message}
                  for a in prep.suite.assertions}
        return _masked({**record, "status": "invalid", "inputs": _small(mapped.values), "run_ids": [],
                        "latencies": [], "tokens": 0, "cost": None, "assertions": failed, "probe_run_ids": []})
    mocks = {**prep.suite.mocks, **prep.row_mocks.get(row.key, {})} or None
    runs, results, probe_runs = [], {a.name: [] for a in prep.suite.assertions}, []
    for _ in range(prep.suite.repeat):
        result = await run_with_consumers(prep.plan, inputs, consumers, pinned=mocks)
        view = RunView(result.status, result.latency_ms, result.nodes, result.run_id, result.error)
        runs.append((view, view.usage()))
        for a in prep.suite.assertions:
            outcome, probe_run = await _evaluate(prep, a, view, row, consumers)
            results[a.name].append(outcome)
            if probe_run:
                probe_runs.append(probe_run)
    return _masked({**record, "status": _status(v.status for v, _ in runs), "inputs": _small(inputs),
                    "run_ids": [v.run_id for v, _ in runs], "latencies": [v.latency_ms for v, _ in runs],
                    "tokens": sum(u.total_tokens for _, u in runs), "cost": _cost([u for _, u in runs]),
                    "assertions": {name: _merge(outcomes) for name, outcomes in results.items()},
                    "probe_run_ids": probe_runs})


def _masked(record: dict[str, Any]) -> dict[str, Any]:
    """The record with the environment's secret values masked, as in the row's run records: a dataset's
    inputs and expected values reach the store, the reports and the editor only through here."""
    redact = env_redactor()
    return record if redact is None else redact.value(record)


async def _evaluate(prep: Prepared, a: Any, view: RunView, row: Row,
                    consumers: Sequence[ConsumerFactory]) -> tuple[Outcome, str | None]:
    expected = row.values.get(a.column) if a.column else a.value
    if a.type in PROBE_TYPES:
        return await prep.probes[a.name].run(view, row.values, expected, consumers)
    try:
        return check(a, view, expected), None
    except Exception as exc:  # noqa: BLE001 - a surprising value fails the assertion, never the experiment
        return Outcome(False, None, expected, f"could not evaluate: {type(exc).__name__}: {exc}"), None


def _merge(outcomes: list[Outcome]) -> dict[str, Any]:
    """A row passes an assertion when every repeat passes; `passes` counts them (variance when repeat > 1)."""
    failing = next((o for o in outcomes if not o.passed), outcomes[-1])
    return {"passed": all(o.passed for o in outcomes), "actual": _small(failing.actual),
            "expected": _small(failing.expected), "message": failing.message,
            "passes": sum(o.passed for o in outcomes), "runs": len(outcomes), **repeat_fields(outcomes)}


def _status(statuses: Any) -> str:
    values = set(statuses)
    return "succeeded" if values == {"succeeded"} else next(iter(sorted(values - {"succeeded"})))


def _cost(usages: list[Any]) -> float | None:
    priced = [u.cost_usd for u in usages if u.cost_usd is not None]
    if not priced and any(u.counted for u in usages):
        return None
    return round(sum(priced), 10)


def run_rows(prep: Prepared, todo: list[Row], consumers: Sequence[ConsumerFactory],
             on_record: Callable[[dict[str, Any]], Any]) -> None:
    """Run `todo` here with the suite's concurrency; `on_record` gets each record as it finishes."""
    import asyncio

    asyncio.run(run_rows_async(prep, todo, consumers, on_record))


async def run_rows_async(prep: Prepared, todo: list[Row], consumers: Sequence[ConsumerFactory],
                         on_record: Callable[[dict[str, Any]], Any]) -> None:
    """`run_rows` on the running event loop (the editor runs experiments beside its own runs)."""
    from ..batch.runner import run_local

    async def one(row: Row) -> dict[str, Any]:
        return await eval_row(prep, row, consumers)

    await run_local(prep.plan, todo, prep.suite.concurrency, on_record, run_one=one)
