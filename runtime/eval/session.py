"""One `patchwire eval`: prepare, run the rows not yet done (resumable), compare, gate, store, report."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..issues import Issue
from .gate import compare_reports, evaluate_gate
from .report import build_report, row_passed
from .runner import Prepared, prepare, run_rows, run_rows_async, work_file
from .suite import InvalidSuite

__all__ = ["run_experiment", "run_prepared", "finish_experiment", "resolve_baseline", "Engine", "IncompleteExperiment"]


def run_experiment(args: Any, registry: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the suite (`args`: the CLI's namespace); the report and the row records. Raises `InvalidSuite`."""
    prep = prepare(args.suite, registry, pipeline_override=getattr(args, "pipeline", None))
    engine = _apply_overrides(prep, args)
    baseline = resolve_baseline(getattr(args, "baseline", None), prep.suite.name)  # before this one is stored
    records = _run(prep, engine, quiet=getattr(args, "quiet", False))
    return finish_experiment(prep, records, baseline), records


async def run_prepared(prep: Prepared, *, on_record: Callable[[dict[str, Any]], None] | None = None,
                       baseline: tuple[dict[str, Any], dict[str, Any] | None] | None = None
                       ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The CLI's experiment on the running event loop (the editor's Evaluate panel): the same resumable work
    file, recording, report, gate and storage; `on_record` sees each row's record as it finishes.

    The suite's `engine` says where the rows run: `local` on this loop, `ray` through the same Ray runner as
    `patchwire eval --engine ray`, in a thread (the loop stays free); `on_record` is then called from that thread.
    Raises `IncompleteExperiment` when Ray tasks failed for good (nothing stored; a rerun resumes)."""
    import asyncio

    from ..consumers import default_consumers, flush_records

    results, todo = _open_results(prep)

    def record(rec: dict[str, Any]) -> None:  # Ray: in a thread
        results.append(rec)
        if on_record is not None:
            on_record(rec)

    async def record_async(rec: dict[str, Any]) -> None:  # local: the fsync off the loop, then `on_record`
        await results.append_async(rec)
        if on_record is not None:
            on_record(rec)

    lost = 0
    try:
        if todo:
            results.open()
            if prep.suite.engine == "ray":
                lost = await asyncio.to_thread(_rows_on_ray, prep, todo, record)
            else:
                await run_rows_async(prep, todo, default_consumers("eval", pipeline_id=prep.pipeline_id),
                                     record_async)
    finally:
        await asyncio.to_thread(flush_records)
        results.close()
    if lost:
        raise IncompleteExperiment(f"{lost} of {len(prep.rows)} rows did not finish (a Ray task failed); nothing was "
                                   "stored. Run the experiment again: it runs only those rows.")
    records = _records(prep, results)
    return await asyncio.to_thread(finish_experiment, prep, records, baseline), records


_RAY_LOCK = threading.Lock()  # one process, one Ray connection: its experiments on Ray run one after another


def _rows_on_ray(prep: Prepared, todo: list[Any], record: Callable[[dict[str, Any]], None]) -> int:
    """`patchwire eval --engine ray`'s runner (plugins reach the workers through `PATCHWIRE_PLUGINS`)."""
    from .ray_rows import run_rows_on_ray

    with _RAY_LOCK:
        return run_rows_on_ray(prep, todo, record, (), prep.suite.ray_address)


def finish_experiment(prep: Prepared, records: list[dict[str, Any]],
                      baseline: tuple[dict[str, Any], dict[str, Any] | None] | None) -> dict[str, Any]:
    """The report of the rows that ran: compared with `baseline` (report, spec), gated, and stored."""
    experiment_id = uuid.uuid4().hex[:16]
    name = str(prep.spec.get("name") or "")
    report = build_report(experiment_id, prep.suite, name, prep.spec_sha256, records, None, {"passed": True, "reasons": []})
    comparison = None
    if baseline is not None:
        base_report, base_spec = baseline
        comparison = compare_reports(report, base_report, prep.spec, base_spec)
    report["baseline"] = comparison
    report["gate"] = evaluate_gate(prep.suite.gate, report["summary"], comparison,
                                   baseline[0]["summary"] if baseline else None)
    _store(prep, experiment_id, report, records)
    return report


@dataclass(frozen=True, slots=True)
class Engine:
    """Where the rows run: `local` (asyncio in this process) or `ray` (a local Ray, or the cluster at `address`)."""

    name: str = "local"
    address: str | None = None
    plugins: tuple[str, ...] = ()


class IncompleteExperiment(RuntimeError):
    """Some rows did not finish (a Ray task failed for good): nothing is stored; a rerun resumes."""


def _apply_overrides(prep: Prepared, args: Any) -> Engine:
    """The CLI's overrides of the suite's concurrency and engine (the suite file itself is not changed)."""
    from ..cli.common import UsageError

    if getattr(args, "concurrency", None):
        if args.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {args.concurrency}.")
        prep.suite.concurrency = args.concurrency
    name = getattr(args, "engine", None) or prep.suite.engine
    address = getattr(args, "ray_address", None) or prep.suite.ray_address
    if getattr(args, "ray_address", None) and name != "ray":
        raise UsageError("--ray-address needs --engine ray (or `engine: ray` in the suite).")
    return Engine(name, address if name == "ray" else None, tuple(getattr(args, "plugin", None) or ()))


def _run(prep: Prepared, engine: Engine, *, quiet: bool) -> list[dict[str, Any]]:
    from ..cli.batch import Progress
    from ..consumers import default_consumers, flush_records

    results, todo = _open_results(prep)
    if len(todo) < len(prep.rows):
        print(f"resuming: {len(prep.rows) - len(todo)} of {len(prep.rows)} rows already ran (`{results.path}`)",
              file=sys.stderr)
    progress = Progress(len(prep.rows), len(prep.rows) - len(todo), enabled=not quiet, label="eval")

    def on_record(record: dict[str, Any]) -> None:  # Ray: on this thread
        results.append(record)
        progress.update(row_passed(record))

    async def on_record_async(record: dict[str, Any]) -> None:  # local: the fsync off the loop, then the count
        await results.append_async(record)
        progress.update(row_passed(record))

    lost, storing = 0, None
    try:
        if todo:
            results.open()
            if engine.name == "ray":
                from .ray_rows import run_rows_on_ray

                lost = run_rows_on_ray(prep, todo, on_record, engine.plugins, engine.address)
            else:
                consumers = default_consumers("eval", pipeline_id=prep.pipeline_id)  # the database is ready
                storing = _import_while_rows_run("runtime.store.experiments")
                run_rows(prep, todo, consumers, on_record_async)
    finally:
        flush_records()
        results.close()
        progress.close()
        if storing is not None:
            storing.join()
    if lost:
        raise IncompleteExperiment(f"{lost} of {len(prep.rows)} rows did not finish (a Ray task failed, see above); "
                                   f"nothing was stored. Rerun the same command: it runs only those rows "
                                   f"(`{results.path}` keeps the others).")
    return _records(prep, results)


def _import_while_rows_run(module: str) -> Any:
    """Import `module` (needed only once the rows are done) in a thread: the rows' event loop spends most of
    its time waiting on models, so the import costs a `patchwire eval` process nothing on its critical path."""
    import importlib
    import threading

    thread = threading.Thread(target=importlib.import_module, args=(module,), name="patchwire-eval-import",
                              daemon=True)
    thread.start()
    return thread


def _open_results(prep: Prepared) -> tuple[Any, list[Any]]:
    """The experiment's resumable work file, and the rows it does not hold yet."""
    from ..batch.runner import ResultsFile
    from ..settings import data_dir

    folder = data_dir() / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    results = ResultsFile(work_file(prep, folder))
    prep.work_path = results.path
    return results, [row for row in prep.rows if row.key not in results.keys]


def _records(prep: Prepared, results: Any) -> list[dict[str, Any]]:
    return [results.latest[row.key] for row in prep.rows if row.key in results.latest]


def _store(prep: Prepared, experiment_id: str, report: dict[str, Any], records: list[dict[str, Any]]) -> None:
    from ..store.experiments import Experiment, save_experiment

    save_experiment(Experiment(id=experiment_id, suite_name=prep.suite.name,
                               suite=json.loads(prep.suite.canonical_json()), pipeline_name=report["pipeline"]["name"],
                               pipeline_id=prep.pipeline_id, pipeline_version=prep.version,
                               spec_sha256=prep.spec_sha256, spec=prep.spec, dataset=str(prep.dataset_path),
                               dataset_sha256=prep.dataset_sha256, score=report["summary"]["score"],
                               gate_passed=report["gate"]["passed"], report=report), records)
    Path(prep.work_path).unlink(missing_ok=True)  # stored: the next eval starts afresh


def resolve_baseline(ref: str | None, suite_name: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """(report, spec) of `latest` (this suite's newest stored experiment), an experiment id, or a report file."""
    if ref is None:
        return None
    from ..store.experiments import ExperimentNotFound, get_experiment, latest_experiment

    if ref == "latest":
        found = latest_experiment(suite_name)
        if found is None:
            raise InvalidSuite([Issue(code="no_baseline", path="--baseline",
                                      message=f"--baseline latest: suite `{suite_name}` has no stored experiment yet.",
                                      hint="Run `patchwire eval SUITE` once without --baseline to make one.")])
        return found.report, found.spec
    if Path(ref).is_file():
        return _baseline_file(Path(ref))
    try:
        found = get_experiment(ref)
    except ExperimentNotFound as exc:
        raise InvalidSuite([Issue(code="no_baseline", path="--baseline", message=str(exc),
                                  hint="Give an experiment id, `latest`, or a report.json file.")]) from None
    return found.report, found.spec


def _baseline_file(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from ..store.experiments import ExperimentNotFound, get_experiment

    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(report, dict) and {"summary", "rows", "experiment_id"} <= report.keys()
    except (OSError, ValueError, AssertionError):
        raise InvalidSuite([Issue(code="bad_baseline", path="--baseline",
                                  message=f"--baseline `{path}` is not a report.json written by `patchwire eval -o`.",
                                  hint="Give an experiment id, `latest`, or a report.json file.")]) from None
    try:
        spec = get_experiment(report["experiment_id"]).spec  # for the graph diff, when it is stored here
    except ExperimentNotFound:
        spec = None
    return report, spec
