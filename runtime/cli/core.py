"""`patchwire run`, `validate`, `schema` and `components`: running and checking a spec."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..issues import InputProblem, InvalidInputs, InvalidSpec
from .common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    add_plugin_arg,
    add_record_arg,
    load_registry,
    prepare_store,
    print_issues,
)

__all__ = ["add_commands", "parse_cli_inputs", "missing_input_hint"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run a pipeline and print its outputs")
    run.add_argument("spec", help="pipeline spec file (.json, .yaml)")
    run.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE",
                     help="a pipeline input, parsed by the io.input's type (repeatable)")
    run.add_argument("--inputs-json", metavar="JSON", help="inputs as one JSON object, values taken as they are")
    run.add_argument("--json", action="store_true", help="print exactly one JSON object with the result")
    add_record_arg(run)
    add_plugin_arg(run)
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser("validate", help="check a spec and list every problem")
    check.add_argument("spec")
    check.add_argument("--json", action="store_true", help="print issues as JSON")
    add_plugin_arg(check)
    check.set_defaults(handler=cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    schema.set_defaults(handler=cmd_schema)

    comps = sub.add_parser("components", help="list installed components and plugin problems")
    comps.add_argument("--json", action="store_true")
    add_plugin_arg(comps)
    comps.set_defaults(handler=cmd_components)


def cmd_validate(args: argparse.Namespace) -> int:
    from ..loading import load_spec
    from ..validation import validate

    try:
        issues = validate(load_spec(args.spec), load_registry(args))
    except InvalidSpec as exc:
        issues = exc.issues
    errors = [i for i in issues if i.severity == "error"]
    if args.json:
        print(json.dumps({"valid": not errors, "issues": [i.model_dump() for i in issues]}, indent=2))
    else:
        print_issues(issues)
        if not errors:
            print(f"ok: `{args.spec}` is valid" + (f" ({len(issues)} warnings)" if issues else ""))
    return EXIT_INVALID if errors else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from ..spec import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2))
    return EXIT_OK


def cmd_components(args: argparse.Namespace) -> int:
    registry = load_registry(args)
    if args.json:
        print(json.dumps({"components": [info.to_dict() for info in registry],
                          "problems": [p.message for p in registry.problems]}, indent=2, default=repr))
        return EXIT_OK
    for info in registry:
        print(f"{info.id:<24} v{info.version}  {info.category:<18} {info.title}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from ..api import compile
    from ..loading import load_spec

    registry = load_registry(args)
    plan = compile(load_spec(args.spec), registry)
    if not args.json:
        for warning in plan.warnings:
            print(f"warning: {warning.message}", file=sys.stderr)
    inputs = parse_cli_inputs(plan, args.input, args.inputs_json)
    if not args.no_record:
        prepare_store()
    result = asyncio.run(_run(plan, inputs, record=not args.no_record, progress=None if args.json else sys.stderr))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from ..progress import print_outputs

        print_outputs(result)
    return EXIT_OK if result.status == "succeeded" else EXIT_FAILED


async def _run(plan: Any, inputs: dict[str, Any], *, record: bool, progress: Any) -> Any:
    from ..consumers import default_consumers, flush_records, run_with_consumers

    try:
        return await run_with_consumers(plan, inputs, default_consumers("cli", record=record, progress=progress))
    finally:
        flush_records()


def missing_input_hint(name: str) -> str:
    """How to give a required input on the command line."""
    return f"pass it with `--input {name}=...` (or give the io.input node a `default`)."


def parse_cli_inputs(plan: Any, pairs: list[str], inputs_json: str | None) -> dict[str, Any]:
    """`--inputs-json` values as they are, then `--input name=value` parsed by each input's type."""
    from ..builtins import coerce_input_text

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
            problems.append(InputProblem.invalid(name, entry[1].type, text, str(exc)))
    if problems:
        raise InvalidInputs(problems)
    return values
