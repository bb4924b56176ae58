"""What every `patchwire` subcommand shares: exit codes, usage errors, the plugin flag, the registry."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..issues import Issue

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_INVALID", "UsageError", "add_plugin_arg", "add_record_arg",
           "load_registry", "print_issues", "prepare_store"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit 2."""


def add_plugin_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH",
                        help="plugin file or module to load (repeatable; also PATCHWIRE_PLUGINS)")


def add_record_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-record", action="store_true",
                        help="do not store runs in the run history (DATABASE_URL, default SQLite)")


def load_registry(args: argparse.Namespace) -> Registry:
    """The installed components plus `--plugin`s; plugin problems are printed as warnings."""
    from ..registry import default_registry

    registry = default_registry(args.plugin)
    for problem in registry.problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    return registry


def prepare_store() -> None:
    """The database (DATABASE_URL, default SQLite) ready before a command records anything: reachable,
    migrated, runs orphaned by a stopped process marked interrupted. A usage error naming the problem if not."""
    from ..store import DatabaseUnavailable, prepare_database

    try:
        prepare_database()
    except DatabaseUnavailable as exc:
        raise UsageError(str(exc)) from None


def print_issues(issues: list[Issue]) -> None:
    for issue in issues:
        where = f" [{issue.node_id}{'.' + issue.port if issue.port else ''}]" if issue.node_id else ""
        print(f"{issue.severity}{where}: {issue.message}", file=sys.stderr)
        if issue.hint:
            print(f"  hint: {issue.hint}", file=sys.stderr)
