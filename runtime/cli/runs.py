"""`patchwire runs stats` and `patchwire runs prune`: the run history's numbers, and its retention on demand."""

from __future__ import annotations

import argparse
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from .common import EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..store.stats import Stats

__all__ = ["add_command", "parse_window"]


def add_command(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="the run history (DATABASE_URL): stats per pipeline, pruning")
    actions = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    stats = actions.add_parser("stats", help="runs, error rate, p50/p95 latency, tokens and cost per pipeline "
                                             "and node")
    stats.add_argument("--pipeline", default=None, help="only this pipeline (its name)")
    stats.add_argument("--since", default=None, metavar="WINDOW",
                       help="only runs started within this window, e.g. 1h, 24h, 7d (default: all)")
    stats.add_argument("--by-version", action="store_true", help="one row per spec version (hash of the spec)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=cmd_stats)
    prune = actions.add_parser("prune", help="delete runs beyond the retention (PATCHWIRE_RUN_RETENTION)")
    prune.add_argument("--retention", default=None, metavar="SPEC",
                       help="e.g. 30d, 1000 or 30d,1000 (default: PATCHWIRE_RUN_RETENTION)")
    prune.set_defaults(handler=cmd_prune)


def parse_window(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if match is None:
        raise UsageError(f"--since {text!r}: expected a number and a unit (s, m, h, d), e.g. 24h or 7d.")
    seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return timedelta(seconds=seconds)


def cmd_stats(args: argparse.Namespace) -> int:
    from ..store.stats import run_stats

    since = parse_window(args.since) if args.since else None
    rows = run_stats(pipeline=args.pipeline, since=since, by_version=args.by_version)
    if args.json:
        print(json.dumps({"pipelines": [row.to_dict() for row in rows]}, indent=2))
        return EXIT_OK
    if not rows:
        print("no finished runs" + (f" of `{args.pipeline}`" if args.pipeline else "")
              + (f" in the last {args.since}" if args.since else ""))
    for row in rows:
        version = f" @{row.version}" if row.version else ""
        print(f"{row.pipeline}{version}: {_line(row)}")
        for node_id, node in sorted(row.nodes.items()):
            print(f"  {node_id:<24} {_line(node)}")
    return EXIT_OK


def _line(s: Stats) -> str:
    cost = "-" if s.cost_usd is None else f"${s.cost_usd:.4f}"
    return (f"{s.runs} runs, {s.error_rate:.1%} errors, p50 {_ms(s.p50_ms)}, p95 {_ms(s.p95_ms)}, "
            f"{s.tokens} tokens, {cost}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def cmd_prune(args: argparse.Namespace) -> int:
    from ..store.retention import (
        RETENTION_ENV,
        RetentionError,
        parse_retention,
        prune_runs,
        retention_from_env,
    )

    try:
        retention = (parse_retention(args.retention, where="--retention") if args.retention is not None
                     else retention_from_env())
    except RetentionError as exc:
        raise UsageError(str(exc)) from None
    if retention.keeps_everything:
        raise UsageError(f"nothing to prune: {RETENTION_ENV} is not set and no --retention was given "
                         "(e.g. --retention 30d,1000).")
    print(f"pruned {prune_runs(retention)} runs")
    return EXIT_OK
