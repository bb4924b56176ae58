"""Starting points for new pipelines: template files and imported spec files.

Both are only parsed (`runtime.parse_spec`) and validated (`runtime.validate`), never executed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from runtime import InvalidSpec, Issue, PipelineSpec, Registry, parse_spec, validate

__all__ = ["templates_dir", "list_templates", "load_template", "import_spec", "MAX_IMPORT_BYTES",
           "too_large_issue"]

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def templates_dir() -> Path:
    """`PATCHWIRE_TEMPLATES_DIR`, else `templates/` in the checkout."""
    return Path(os.environ.get("PATCHWIRE_TEMPLATES_DIR") or Path(__file__).resolve().parents[1] / "templates")


def list_templates() -> list[dict[str, Any]]:
    """One entry per `templates/*.json`: name = file stem, plus the spec's name and description."""
    folder = templates_dir()
    entries = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        entry = {"name": path.stem, "title": path.stem.replace("_", " "), "description": "", "nodes": 0,
                 "error": ""}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entry.update(title=str(data.get("name") or entry["title"]), description=str(data.get("description", "")),
                         nodes=len(data.get("nodes") or []))
        except (OSError, ValueError, AttributeError) as exc:
            entry["error"] = f"Cannot read `{path.name}`: {exc}"
        entries.append(entry)
    return entries


def load_template(name: str) -> PipelineSpec:
    """The template named `name` (a file stem listed by `list_templates`); raises InvalidSpec."""
    known = {path.stem: path for path in templates_dir().glob("*.json")}
    path = known.get(name)
    if path is None:
        listed = ", ".join(f"`{n}`" for n in sorted(known)) or "none"
        raise InvalidSpec([Issue(code="unknown_template", message=f"There is no template `{name}`.",
                                 hint=f"Templates: {listed}.")])
    return parse_spec(path.read_bytes(), fmt="json", source=path.name)


def import_spec(data: bytes, filename: str, registry: Registry) -> tuple[PipelineSpec, list[Issue]]:
    """Parse an uploaded JSON/YAML spec; raise InvalidSpec if it is not a spec at all.

    A spec that parses but has problems (an unknown component, a bad wire) is imported anyway, and
    its issues are returned, so the user can fix them in the editor.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidSpec([too_large_issue(filename, len(data))])
    suffix = Path(filename).suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InvalidSpec([Issue(code="unsupported_file",
                                 message=f"`{filename}` is not a .json, .yaml or .yml file.",
                                 hint="Export a pipeline from Patchwire (or `patchwire schema` for the format).")])
    spec = parse_spec(data, fmt="yaml" if suffix in (".yaml", ".yml") else "json", source=filename)
    return spec, validate(spec, registry)


def too_large_issue(filename: str, size: int | None) -> Issue:
    """An import over `MAX_IMPORT_BYTES` (`size` None: the upload did not say how big it is)."""
    shown = f"{size / 1e6:.1f} MB" if size is not None else f"over {MAX_IMPORT_BYTES / 1e6:.0f} MB"
    return Issue(code="file_too_large",
                 message=f"`{filename}` is {shown}; imports are limited to {MAX_IMPORT_BYTES / 1e6:.0f} MB.",
                 hint="A spec is a small file of nodes and edges; check that this is the right file. The editor's "
                      "import limit is fixed; `patchwire run`, `validate` and `serve` read spec files up to "
                      "PATCHWIRE_MAX_SPEC_BYTES.")
