"""`patchwire`: the command line. One table of subcommands; each module adds its own.

Exit codes: 0 success, 1 the run failed or was cancelled, 2 invalid spec, inputs or usage. The command
modules stay light (their work loads inside the handlers), so `patchwire run` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..issues import InvalidInputs, InvalidSpec
from ..log_redaction import install_log_redaction
from ..tracing import TracingConfigError
from . import batch, core, eval, export, mcp, runs, serve
from .common import EXIT_FAILED, EXIT_INVALID, UsageError, print_issues

__all__ = ["main", "build_parser", "COMMANDS"]

# Each entry adds its subcommands to the parser, in the order `patchwire --help` lists them.
COMMANDS = (core.add_commands, serve.add_command, mcp.add_command, export.add_commands, batch.add_command,
            eval.add_commands, runs.add_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patchwire", description="Run and check Patchwire pipelines.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    install_log_redaction()  # a library logging a request with its key writes `***`
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, TracingConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidSpec as exc:
        print_issues(exc.issues)
        return EXIT_INVALID
    except InvalidInputs as exc:
        for problem in exc.texts(core.missing_input_hint):
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read stdout went away (`patchwire run ... | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
        return EXIT_FAILED
    except Exception as exc:
        if _database_unavailable(exc):  # e.g. `eval` or `runs stats` on a database that is down
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_INVALID
        if os.environ.get("PATCHWIRE_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "  hint: run again with PATCHWIRE_DEBUG=1 for the traceback, and report it.", file=sys.stderr)
        return EXIT_FAILED



def _database_unavailable(exc: Exception) -> bool:
    """Whether `exc` says the configured database cannot be used (a message for a person, not a bug).
    The store module is loaded whenever one could have been raised: the CLI does not import it to check."""
    health = sys.modules.get(__name__.rpartition(".")[0] + ".store.health")
    return health is not None and isinstance(exc, health.DatabaseUnavailable)
