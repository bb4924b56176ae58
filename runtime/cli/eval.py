"""`patchwire eval SUITE`, `patchwire eval compare A B`, `patchwire eval schema` and `patchwire publish`.

Exit codes: 0 the gate holds, 1 it does not, 2 an invalid suite (every problem printed, like `validate`).
Imported on every CLI start, so the eval package loads inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    add_plugin_arg,
    load_registry,
    print_issues,
)

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="run an eval suite (dataset + assertions on any node), compare with a "
                                     "baseline, gate on it; `eval compare A B`; `eval schema`",
                        description="patchwire eval SUITE | patchwire eval compare A B | patchwire eval schema")
    ev.add_argument("suite", metavar="SUITE", help="suite file (.yaml, .json), or `compare`, or `schema`")
    ev.add_argument("more", nargs="*", metavar="EXPERIMENT", help="with `compare`: the baseline and the experiment")
    ev.add_argument("--baseline", metavar="EXPERIMENT_ID|latest|FILE", default=None,
                    help="compare with a stored experiment, the latest one of this suite, or a report.json")
    ev.add_argument("--pipeline", metavar="SPEC", default=None, help="evaluate this spec file instead of the suite's")
    ev.add_argument("-o", "--output", metavar="FILE", default=None, help="write report.json here")
    ev.add_argument("--html", metavar="FILE", default=None, help="write an HTML report here")
    ev.add_argument("--no-gate", action="store_true", help="report the gate but exit 0 whatever it says")
    ev.add_argument("--engine", choices=["local", "ray"], default=None,
                    help="override the suite's engine (ray: the rows as Ray tasks, pip install patchwire[ray])")
    ev.add_argument("--ray-address", metavar="ADDR", default=None,
                    help="with --engine ray: an existing Ray cluster (default: the suite's, else a local Ray)")
    ev.add_argument("--concurrency", type=int, default=None, metavar="N", help="override the suite's concurrency")
    ev.add_argument("--schema", action="store_true", help="print the suite file's JSON Schema and exit")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    add_plugin_arg(ev)
    ev.set_defaults(handler=cmd_eval)

    pub = sub.add_parser("publish", help="mark a saved pipeline version published (gated by an eval suite)")
    pub.add_argument("pipeline", metavar="PIPELINE", help="saved pipeline id or name")
    pub.add_argument("version", type=int, metavar="VERSION", help="saved version id (#N in the editor)")
    pub.add_argument("--suite", metavar="NAME|FILE", default=None,
                     help="gate on this suite's latest experiments (the version's vs the published version's)")
    pub.set_defaults(handler=cmd_publish)


def cmd_eval(args: argparse.Namespace) -> int:
    if args.schema or args.suite == "schema":
        from ..eval.suite import suite_json_schema

        print(json.dumps(suite_json_schema(), indent=2))
        return EXIT_OK
    if args.suite == "compare":
        return cmd_compare(args)
    if args.more:
        raise UsageError(f"unexpected argument(s) {' '.join(args.more)}: `patchwire eval SUITE` takes one suite.")
    from ..batch.runner import BatchError
    from ..eval.session import IncompleteExperiment, run_experiment
    from ..eval.suite import InvalidSuite

    try:
        report, records = run_experiment(args, load_registry(args))
    except InvalidSuite as exc:
        print_issues(exc.issues)
        print(f"error: suite `{args.suite}` has {len(exc.issues)} problem(s); nothing ran.", file=sys.stderr)
        return EXIT_INVALID
    except BatchError as exc:  # e.g. Ray is not installed, or its cluster cannot be reached
        raise UsageError(str(exc)) from None
    except IncompleteExperiment as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    from ..eval.report import report_html, summary_lines

    for line in summary_lines(report, records):
        print(line)
    _write(args.output, lambda: json.dumps(report, indent=2, ensure_ascii=False))
    _write(args.html, lambda: report_html(report))
    return EXIT_OK if report["gate"]["passed"] or args.no_gate else EXIT_FAILED


def _write(path: str | None, text: Callable[[], str]) -> None:
    """Write `text()` to `path`; made only when asked for (a 200-row report takes a while to indent)."""
    if not path:
        return
    try:
        Path(path).write_text(text(), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot write `{path}`: {exc.strerror}.") from None


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.more) != 2:
        raise UsageError("`patchwire eval compare A B` takes two experiment ids: the baseline A and the experiment B.")
    from ..eval.gate import compare_reports, evaluate_gate
    from ..eval.report import summary_lines
    from ..eval.suite import Gate
    from ..store.experiments import ExperimentNotFound, get_experiment

    try:
        base, current = (get_experiment(i) for i in args.more)
    except ExperimentNotFound as exc:
        raise UsageError(str(exc)) from None
    comparison = compare_reports(current.report, base.report, current.spec, base.spec)
    gate = evaluate_gate(Gate.model_validate((current.suite or {}).get("gate") or {}), current.report["summary"],
                         comparison, base.report["summary"])
    report = {**current.report, "baseline": comparison, "gate": gate}
    for line in summary_lines(report):
        print(line)
    _write(args.output, lambda: json.dumps(report, indent=2, ensure_ascii=False))
    return EXIT_OK if gate["passed"] or args.no_gate else EXIT_FAILED


def cmd_publish(args: argparse.Namespace) -> int:
    from ..store.pipelines import PipelineNotFound
    from ..store.publish import PublishRefused, find_pipeline, publish_version

    suite_name = _suite_name(args.suite) if args.suite else None
    try:
        pipeline = find_pipeline(args.pipeline)
        publication = publish_version(pipeline.id, args.version, suite_name=suite_name)
    except PipelineNotFound as exc:
        raise UsageError(str(exc)) from None
    except PublishRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_FAILED
    gated = f" (gate of suite `{suite_name}` passed, experiment {publication.experiment_id})" if suite_name else ""
    print(f"published version #{publication.version_id} of `{pipeline.name}` ({pipeline.id}){gated}")
    return EXIT_OK


def _suite_name(value: str) -> str:
    if not Path(value).is_file():
        return value
    from ..eval.suite import InvalidSuite, load_suite

    try:
        return load_suite(value)[0].name
    except InvalidSuite as exc:
        raise UsageError(str(exc)) from None

