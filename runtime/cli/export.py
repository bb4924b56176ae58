"""`patchwire export` and `patchwire export-python`: leave the editor with a spec file or plain Python.

Imported on every CLI start, so this module stays light: the export code loads inside the handlers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .common import EXIT_OK, UsageError, add_plugin_arg, load_registry

__all__ = ["add_commands", "write_atomically"]

SUFFIXES = (".json", ".yaml", ".yml")


def add_commands(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="write a byte-stable JSON or YAML spec (no run data, no secrets)")
    export.add_argument("spec", help="pipeline spec file (.json, .yaml)")
    export.add_argument("--format", choices=["json", "yaml"], default=None,
                        help="output format (default: from the -o suffix, else json)")
    export.add_argument("-o", "--output", metavar="FILE", default="-", help="output file (default: stdout)")
    export.add_argument("--no-layout", action="store_true", help="leave out the editor's node positions")
    add_plugin_arg(export)
    export.set_defaults(handler=cmd_export)

    python = sub.add_parser("export-python", help="write a plain-asyncio Python module (no Patchwire executor)")
    python.add_argument("spec", help="pipeline spec file (.json, .yaml)")
    python.add_argument("-o", "--output", metavar="FILE", default="-", help="output file (default: stdout)")
    add_plugin_arg(python)
    python.set_defaults(handler=cmd_export_python)


def cmd_export(args: argparse.Namespace) -> int:
    from ..export.spec_files import export_spec, format_for, import_spec

    spec = import_spec(args.spec, registry=load_registry(args))
    fmt = format_for(args.output if args.output != "-" else "", args.format)
    implied = format_for(args.output, None) if Path(args.output).suffix.lower() in SUFFIXES else fmt
    if implied != fmt:
        raise UsageError(f"--format {fmt} but `{args.output}` ends in {Path(args.output).suffix}: the file would not "
                         f"load back. Name it `{Path(args.output).with_suffix('.' + fmt)}`, or use --format {implied}.")
    result = export_spec(spec, fmt, layout=not args.no_layout)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _write(args.output, result.data)
    if args.output != "-":
        print(f"ok: wrote `{args.output}` ({fmt}, {len(result.data)} bytes)", file=sys.stderr)
    return EXIT_OK


def cmd_export_python(args: argparse.Namespace) -> int:
    from ..export.python import CodegenError, generate_python
    from ..loading import load_spec

    registry = load_registry(args)
    try:
        script = Path(args.output).name if args.output != "-" else "pipeline.py"
        warnings: list[str] = []
        code = generate_python(load_spec(args.spec), registry, source=args.spec, script=script, warnings=warnings)
    except CodegenError as exc:
        raise UsageError(str(exc)) from None
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _write(args.output, code.encode())
    if args.output != "-":
        print(f"ok: wrote `{args.output}`; run it with `python {args.output} --input name=value`", file=sys.stderr)
    return EXIT_OK


def _write(output: str, data: bytes) -> None:
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        write_atomically(Path(output), data)
    except OSError as exc:
        raise UsageError(f"cannot write `{output}`: {exc.strerror}. Check that the directory exists and is "
                         "writable.") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file next to `path`, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

