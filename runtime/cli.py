"""`patchwire`: validate, run and inspect pipelines from the command line.

Exit codes: 0 success, 1 the run failed or was cancelled, 2 invalid spec, inputs or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .issues import InvalidInputs, InvalidSpec, Issue

__all__ = ["main", "build_parser", "register_command"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

# Extra subcommands (serve, export, batch) register here without this module importing them.
_EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def register_command(add: Callable[[Any], None]) -> None:
    _EXTRA_COMMANDS.append(add)


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patchwire", description="Run and check Patchwire pipelines.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a pipeline and print its outputs")
    run.add_argument("spec", help="pipeline spec file (.json, .yaml)")
    run.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE",
                     help="a pipeline input, parsed by the io.input's type (repeatable)")
    run.add_argument("--inputs-json", metavar="JSON", help="inputs as one JSON object, values taken as they are")
    run.add_argument("--json", action="store_true", help="print exactly one JSON object with the result")
    _add_plugin_arg(run)
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser("validate", help="check a spec and list every problem")
    check.add_argument("spec")
    check.add_argument("--json", action="store_true", help="print issues as JSON")
    _add_plugin_arg(check)
    check.set_defaults(handler=cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    schema.set_defaults(handler=cmd_schema)

    comps = sub.add_parser("components", help="list installed components and plugin problems")
    comps.add_argument("--json", action="store_true")
    _add_plugin_arg(comps)
    comps.set_defaults(handler=cmd_components)

    for add in _EXTRA_COMMANDS:
        add(sub)
    return parser


def _add_plugin_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH",
                        help="plugin file or module to load (repeatable; also PATCHWIRE_PLUGINS)")


def main(argv: Sequence[str] | None = None) -> int:
    _load_extra_commands()
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidSpec as exc:
        _print_issues(exc.issues)
        return EXIT_INVALID
    except InvalidInputs as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read stdout went away (`patchwire run ... | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - never a bare traceback for users
        if os.environ.get("PATCHWIRE_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "  hint: run again with PATCHWIRE_DEBUG=1 for the traceback, and report it.", file=sys.stderr)
        return EXIT_FAILED


def _load_extra_commands() -> None:
    """Subcommands living in other runtime modules; imported lazily to keep `run` fast."""
    from importlib import import_module

    for name in ("runtime.serve_cli", "runtime.export_cli", "runtime.batch_cli"):
        try:
            import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def _registry(args: argparse.Namespace):
    from .registry import default_registry

    registry = default_registry(args.plugin)
    for problem in registry.problems:
        print(f"warning: {problem.message}", file=sys.stderr)
    return registry


def _print_issues(issues: list[Issue]) -> None:
    for issue in issues:
        where = f" [{issue.node_id}{'.' + issue.port if issue.port else ''}]" if issue.node_id else ""
        print(f"{issue.severity}{where}: {issue.message}", file=sys.stderr)
        if issue.hint:
            print(f"  hint: {issue.hint}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from .loading import load_spec
    from .validation import validate

    try:
        issues = validate(load_spec(args.spec), _registry(args))
    except InvalidSpec as exc:
        issues = exc.issues
    errors = [i for i in issues if i.severity == "error"]
    if args.json:
        print(json.dumps({"valid": not errors, "issues": [i.model_dump() for i in issues]}, indent=2))
    else:
        _print_issues(issues)
        if not errors:
            print(f"ok: `{args.spec}` is valid" + (f" ({len(issues)} warnings)" if issues else ""))
    return EXIT_INVALID if errors else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .spec import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2))
    return EXIT_OK


def cmd_components(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.json:
        print(json.dumps({"components": [info.to_dict() for info in registry],
                          "problems": [p.message for p in registry.problems]}, indent=2, default=repr))
        return EXIT_OK
    for info in registry:
        print(f"{info.id:<24} v{info.version}  {info.category:<18} {info.title}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .api import compile
    from .loading import load_spec

    registry = _registry(args)
    plan = compile(load_spec(args.spec), registry)
    if not args.json:
        for warning in plan.warnings:
            print(f"warning: {warning.message}", file=sys.stderr)
    inputs = parse_cli_inputs(plan, args.input, args.inputs_json)
    from .progress import run_with_progress

    result = asyncio.run(run_with_progress(plan, inputs, quiet=args.json))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from .progress import print_outputs

        print_outputs(result)
    return EXIT_OK if result.status == "succeeded" else EXIT_FAILED


def parse_cli_inputs(plan: Any, pairs: list[str], inputs_json: str | None) -> dict[str, Any]:
    """`--inputs-json` values as they are, then `--input name=value` parsed by each input's type."""
    from .builtins import coerce_input_text

    values: dict[str, Any] = {}
    if inputs_json:
        try:
            loaded = json.loads(inputs_json)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--inputs-json is not valid JSON: {exc.msg} at column {exc.colno}.") from None
        if not isinstance(loaded, dict):
            raise UsageError("--inputs-json must be a JSON object, e.g. '{\"query\": \"hello\"}'.")
        values.update(loaded)
    problems = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--input {pair!r} must look like name=value.")
        entry = plan.inputs.get(name)
        if entry is None:
            values[name] = text  # reported with every other problem by resolve_inputs
            continue
        try:
            values[name] = coerce_input_text(entry[1].type, text)
        except ValueError as exc:
            problems.append(f"Input `{name}`: {exc}.")
    if problems:
        raise InvalidInputs(problems)
    return values


if __name__ == "__main__":
    sys.exit(main())
