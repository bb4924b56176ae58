"""Plain-Python export: a spec becomes a readable asyncio module that calls the components directly.

    code = generate_python(spec, registry, source="pipeline.json")

The module has no Patchwire executor in it: one task per step, branches as `if` tests on which output
ports fired (`model_fields_set`), fan-in lists in edge order, policies as `asyncio.wait_for` plus a retry
loop, and a `main()` reading `--input name=value` and printing the outputs as JSON. Plugin components
are imported from their module, or from their plugin file by path. It is formatted with `ruff format` when
ruff is installed, and already laid out in the same style otherwise.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ...registry import Registry
from ...spec import PipelineSpec
from .emit import CodegenError, emit_module
from .graph import build_program

__all__ = ["generate_python", "CodegenError", "format_source", "spec_digest"]

RUFF_TIMEOUT_S = 30


def generate_python(spec: PipelineSpec, registry: Registry, *, source: str = "<spec>",
                    script: str = "pipeline.py", formatter: str | None = "auto",
                    warnings: list[str] | None = None) -> str:
    """The module's source text. Raises `InvalidSpec` for an invalid spec, `CodegenError` when a component
    cannot be imported by name. `formatter`: "auto" (ruff when installed), or None to skip formatting.
    Secret values in params never reach the code: they become `${secret:NAME}` (one warning each, added
    to `warnings`), as in `patchwire export`."""
    from ...plan import compile_plan
    from ..spec_files import scrubbed_spec

    spec, removed = scrubbed_spec(spec)
    if warnings is not None:
        warnings.extend(removed)
    plan = compile_plan(spec, registry)
    program = build_program(plan)
    node_names = {f"{step.var}{suffix}" for step in program.steps for suffix in ("", "_step", "_task", "_out")}
    node_names |= {var for var, _, _ in program.inputs}
    code = emit_module(program, source=source, digest=spec_digest(spec), node_names=node_names, script=script)
    compile(code, script, "exec")  # a generator bug must surface here, not in the user's hands
    return format_source(code) if formatter == "auto" else code


def spec_digest(spec: PipelineSpec) -> str:
    """A short hash of the spec's canonical JSON without its layout: which spec the code came from."""
    from ..spec_files import dump_document, spec_document

    document, _ = spec_document(spec, layout=False)
    return hashlib.sha256(dump_document(document, "json")).hexdigest()[:16]


def format_source(code: str) -> str:
    """`code` through `ruff format` (fixed settings, so the result does not depend on the directory)."""
    ruff = _find_ruff()
    if ruff is None:
        return code
    try:
        proc = subprocess.run([ruff, "format", "--isolated", "--line-length", "100", "-"], input=code,
                              capture_output=True, text=True, timeout=RUFF_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return code
    return proc.stdout if proc.returncode == 0 and proc.stdout else code


def _find_ruff() -> str | None:
    if os.environ.get("PATCHWIRE_NO_RUFF"):
        return None
    local = Path(sys.executable).with_name("ruff")
    return str(local) if local.is_file() else shutil.which("ruff")
