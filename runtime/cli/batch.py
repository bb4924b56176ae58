"""`patchwire batch SPEC DATASET -o results.jsonl`: every row through the pipeline, with progress.

Imported on every CLI start, so this module stays light: the runtime and Ray load inside the handler.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_plugin_arg,
    add_record_arg,
    load_registry,
    prepare_store,
)

__all__ = ["add_command", "Progress", "run_batch"]


def add_command(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser("batch", help="run a pipeline on every row of a .jsonl or .csv dataset (resumable)")
    batch.add_argument("spec", help="pipeline spec file (.json, .yaml)")
    batch.add_argument("dataset", help="rows: .jsonl (one object per line) or .csv (header = input names)")
    batch.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="results, one JSON line per row; rows already in it are skipped")
    batch.add_argument("--concurrency", type=int, default=8, metavar="N", help="rows in flight (default 8)")
    batch.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="local: asyncio in this process; ray: Ray tasks (pip install patchwire[ray])")
    batch.add_argument("--ray-address", metavar="ADDR", default=None,
                       help="an existing Ray cluster (default: start a local Ray)")
    batch.add_argument("--retry-failed", action="store_true",
                       help="also run again the rows whose last result in the output did not succeed")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    add_record_arg(batch)
    add_plugin_arg(batch)
    batch.set_defaults(handler=cmd_batch)


def cmd_batch(args: argparse.Namespace) -> int:
    from ..batch.runner import BatchError

    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {args.concurrency}.")
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray.")
    if not args.no_record:
        prepare_store()  # migrated once, before any row runs; a bad database stops the batch here
    try:
        summary = run_batch(args)
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    for line in summary.lines():
        print(line)
    return EXIT_OK if summary.failed == 0 else EXIT_FAILED


def run_batch(args: argparse.Namespace) -> Any:
    """Run the rows not yet in the output; return the summary of every row of the dataset."""
    import asyncio

    from ..api import compile
    from ..batch.runner import ResultsFile, read_dataset, run_local, summarize
    from ..consumers import default_consumers, flush_records
    from ..loading import load_spec

    plan = compile(load_spec(args.spec), load_registry(args))
    rows = read_dataset(args.dataset)
    _check_required_columns(plan, rows, args.dataset)
    _warn_unused_columns(plan, rows)
    results = ResultsFile(args.output)
    done = results.keys - (results.failed_keys() if args.retry_failed else set())
    todo = [row for row in rows if row.key not in done]
    if todo:
        results.open()
    _say_resuming(args, rows, todo, results)
    progress = Progress(len(rows), len(rows) - len(todo), enabled=not args.quiet)
    recording = not getattr(args, "no_record", False)  # callers from Python may build `args` without it

    def on_record(record: dict[str, Any]) -> None:  # Ray: on this thread, no event loop
        results.append(record)
        progress.update(record.get("status") == "succeeded")

    async def on_record_async(record: dict[str, Any]) -> None:  # local: the fsync off the loop, then the count
        await results.append_async(record)
        progress.update(record.get("status") == "succeeded")

    try:
        if args.engine == "ray":
            from ..batch.ray_engine import run_ray

            lost = run_ray(plan.spec.model_dump_json(), args.plugin, todo, args.concurrency, args.ray_address,
                           on_record, record=recording)
            if lost:
                print(f"warning: {lost} rows did not finish (a Ray task failed, see above); they are not in "
                      f"`{args.output}`: rerun the same command to run them.", file=sys.stderr)
        else:
            asyncio.run(run_local(plan, todo, args.concurrency, on_record_async,
                                  default_consumers("batch", record=recording)))
    finally:
        flush_records()
        results.close()
        progress.close()
    summary = summarize(results.latest[row.key] for row in rows if row.key in results.latest)
    summary.failed += len(rows) - summary.rows  # rows lost to a failed Ray task count as failed
    summary.rows = len(rows)
    return summary


def _say_resuming(args: argparse.Namespace, rows: list[Any], todo: list[Any], results: Any) -> None:
    if len(todo) == len(rows):
        return
    keys = {row.key for row in rows}
    failed = len(results.failed_keys() & keys)
    retry = f"; retrying {failed} that did not succeed" if args.retry_failed and failed else ""
    hint = (f" ({failed} of them did not succeed: add --retry-failed to run those again)"
            if failed and not args.retry_failed else "")
    print(f"resuming: {len(rows) - len(todo) + (failed if args.retry_failed else 0)} of {len(rows)} rows are "
          f"already in `{args.output}`{hint}{retry}", file=sys.stderr)


def _check_required_columns(plan: Any, rows: list[Any], dataset: str) -> None:
    """A required input that no row has is a dataset problem: refuse before every row is marked invalid
    (and then skipped on the rerun after the fix)."""
    columns = {name for row in rows for name in row.values}
    missing = [name for name, (_, params) in plan.inputs.items()
               if name not in columns and "default" not in params.model_fields_set]
    if rows and missing:
        have = ", ".join(f"`{c}`" for c in sorted(columns)) or "none"
        need = ", ".join(f"`{n}`" for n in missing)
        raise UsageError(f"`{dataset}` has no column (CSV) or key (JSONL) for the required input(s) {need}; it has "
                         f"{have}. Rename the column to the input's name, or give the io.input node a `default`.")


def _warn_unused_columns(plan: Any, rows: list[Any]) -> None:
    columns = {name for row in rows[:100] for name in row.values}
    unused = sorted(columns - set(plan.inputs) - {"id"})
    if unused:
        known = ", ".join(f"`{n}`" for n in plan.inputs) or "none"
        print(f"warning: dataset column(s) {', '.join(f'`{c}`' for c in unused)} match no input and are ignored; "
              f"this pipeline's inputs: {known}.", file=sys.stderr)


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise."""

    WIDTH = 30

    def __init__(self, total: int, done: int = 0, *, enabled: bool = True, stream: TextIO | None = None,
                 label: str = "batch"):
        self.label = label
        self.total, self.done, self.ok, self.failed = total, done, 0, 0
        self.skipped = done
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = self.stream.isatty()
        self.t0 = self.last = time.monotonic()
        self.next_line = done + max(1, total // 10)

    def update(self, succeeded: bool) -> None:
        self.done += 1
        self.ok += succeeded
        self.failed += not succeeded
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty and (now - self.last >= 0.1 or self.done == self.total):
            self.last = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
        elif not self.tty and (self.done >= self.next_line or self.done == self.total):
            self.next_line = self.done + max(1, self.total // 10)
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float) -> str:
        filled = int(self.WIDTH * self.done / self.total)
        rate = (self.done - self.skipped) / max(now - self.t0, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total}  ok {self.ok}  "
                f"failed {self.failed}  {rate:.1f} rows/s  eta {eta:.0f}s")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

