"""Reading spec files: JSON or YAML in, `PipelineSpec` or every problem out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .issues import InvalidSpec, Issue
from .spec import PipelineSpec

__all__ = ["load_spec", "parse_spec", "MAX_SPEC_BYTES", "schema_issues"]

MAX_SPEC_BYTES = int(os.environ.get("PATCHWIRE_MAX_SPEC_BYTES", 64 * 1024 * 1024))


def load_spec(path: str | os.PathLike[str]) -> PipelineSpec:
    """Read a spec from a `.json`, `.yaml` or `.yml` file; raise `InvalidSpec` with every problem."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise InvalidSpec([Issue(code="unreadable_file", message=f"Cannot read `{file}`: {exc.strerror}.",
                                 hint="Check the path.")]) from None
    if size > MAX_SPEC_BYTES:
        raise InvalidSpec([_too_large(file, size)])
    fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_spec(file.read_bytes(), fmt=fmt, source=str(file))


def parse_spec(data: str | bytes, *, fmt: str = "json", source: str = "<spec>") -> PipelineSpec:
    """Parse spec text; raise `InvalidSpec` naming the line/column or field path of each problem."""
    if len(data) > MAX_SPEC_BYTES:
        raise InvalidSpec([_too_large(Path(source), len(data))])
    if not data.strip():
        raise InvalidSpec([Issue(code="empty_file", message=f"`{source}` is empty.",
                                 hint="A spec is a JSON or YAML object with `name` and `nodes`.")])
    raw = _parse_yaml(data, source) if fmt == "yaml" else _parse_json(data, source)
    if not isinstance(raw, dict):
        raise InvalidSpec([Issue(
            code="schema", path="",
            message=f"`{source}` holds a {type(raw).__name__}, not a pipeline object.",
            hint="A spec is an object with `name`, `nodes` and `edges`.")])
    try:
        return PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise InvalidSpec(schema_issues(exc, raw)) from None


def _too_large(file: Path, size: int) -> Issue:
    return Issue(code="file_too_large",
                 message=f"`{file}` is {size / 1e6:.1f} MB; specs are limited to {MAX_SPEC_BYTES / 1e6:.0f} MB.",
                 hint="Keep data out of specs (index it into a collection), or raise PATCHWIRE_MAX_SPEC_BYTES.")


def _parse_json(data: str | bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise InvalidSpec([Issue(code="malformed_json", message=f"`{source}` is not UTF-8 text ({exc.reason}).",
                                 hint="Save the spec as UTF-8 JSON.")]) from None
    except json.JSONDecodeError as exc:
        raise InvalidSpec([Issue(
            code="malformed_json",
            message=f"`{source}` is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            hint="Fix the JSON syntax there (a missing comma, quote or bracket is the usual cause).")]) from None


def _parse_yaml(data: str | bytes, source: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidSpec([Issue(code="malformed_yaml",
                                 message=f"`{source}` is not valid YAML: {exc.problem}{where}.",
                                 hint="Fix the YAML syntax there (indentation is the usual cause).")]) from None
    except yaml.YAMLError as exc:
        raise InvalidSpec([Issue(code="malformed_yaml", message=f"`{source}` is not valid YAML: {exc}.",
                                 hint="Fix the YAML syntax.")]) from None


def schema_issues(exc: ValidationError, raw: dict[str, Any]) -> list[Issue]:
    """One `schema` issue per pydantic error, with the field path and the node id when there is one."""
    issues = []
    for error in exc.errors(include_url=False)[:200]:
        loc = error["loc"]
        path = ".".join(str(part) for part in loc)
        node_id = _node_id_at(raw, loc)
        where = f"node `{node_id}` " if node_id else ""
        got = "" if error["type"] == "missing" else f" (got {_short(error.get('input'))})"
        issues.append(Issue(code="schema", path=path, node_id=node_id,
                            message=f"Spec field `{path}` {where}is invalid: {error['msg']}{got}.",
                            hint=_schema_hint(error["type"], loc)))
    return issues


def _node_id_at(raw: dict[str, Any], loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes")
        if isinstance(nodes, list) and loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict):
            node_id = nodes[loc[1]].get("id")
            return node_id if isinstance(node_id, str) else None
    return None


def _schema_hint(error_type: str, loc: tuple) -> str:
    if error_type == "missing":
        return f"Add `{loc[-1]}`."
    if error_type == "extra_forbidden":
        return f"Remove `{loc[-1]}`; it is not part of the spec format (see `patchwire schema`)."
    if loc and loc[-1] == "id":
        return "Node ids start with a letter or _ and use letters, digits, _ and - (at most 64)."
    return "See `patchwire schema` for the spec format."


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
