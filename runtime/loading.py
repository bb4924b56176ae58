"""Reading spec files: JSON or YAML in, `PipelineSpec` or every problem out."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .issues import InvalidSpec, Issue
from .safe_yaml import YamlRefused, load_yaml
from .spec import LAYOUT_TAGS, EdgeSpec, NodeSpec, PipelineSpec
from .text import short_repr, shorten

__all__ = ["load_spec", "parse_spec", "MAX_SPEC_BYTES", "schema_issues", "yaml_boolean_hint"]

MAX_SPEC_BYTES = int(os.environ.get("PATCHWIRE_MAX_SPEC_BYTES", 64 * 1024 * 1024))
MAX_SCHEMA_ISSUES = 200


def load_spec(path: str | os.PathLike[str]) -> PipelineSpec:
    """Read a spec from a `.json`, `.yaml` or `.yml` file; raise `InvalidSpec` with every problem."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise InvalidSpec([_too_large(file, size)])
        with file.open("rb") as stream:  # bounded: a device or pipe reports size 0 and may never end
            data = stream.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise InvalidSpec([Issue(code="unreadable_file", message=f"Cannot read `{file}`: {exc.strerror}.",
                                 hint="Check the path: it must name a readable spec file.")]) from None
    fmt = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_spec(data, fmt=fmt, source=str(file))


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
            message=f"`{source}` holds {_KINDS.get(type(raw), type(raw).__name__)}, not a pipeline object.",
            hint="A spec is an object with `name`, `nodes` and `edges`.")])
    try:
        return PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise InvalidSpec(schema_issues(exc, raw)) from None


_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
          list: "a list"}


def _too_large(file: Path, size: int) -> Issue:
    return Issue(code="file_too_large",
                 message=f"`{file}` is {size / 1e6:.1f} MB; specs are limited to {MAX_SPEC_BYTES / 1e6:.0f} MB.",
                 hint="Keep data out of specs (index it into a collection), or raise PATCHWIRE_MAX_SPEC_BYTES.")


def _parse_json(data: str | bytes, source: str) -> Any:
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")  # a byte-order mark pasted along with the text
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise InvalidSpec([Issue(code="malformed_json",
                                 message=f"`{source}` is not UTF-8 text ({exc.reason} at byte {exc.start}).",
                                 hint="Save the spec as UTF-8 JSON.")]) from None
    except json.JSONDecodeError as exc:
        raise InvalidSpec([Issue(
            code="malformed_json",
            message=f"`{source}` is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            hint="Fix the JSON syntax there (a missing comma, quote or bracket is the usual cause).")]) from None
    except (RecursionError, ValueError) as exc:  # nesting too deep; an integer literal too long
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise InvalidSpec([Issue(code="malformed_json", message=f"`{source}` cannot be read as JSON: {reason}.",
                                 hint="A spec is a small object of nodes and edges; check that this is "
                                      "the right file.")]) from None


def _parse_yaml(data: str | bytes, source: str) -> Any:
    try:
        return load_yaml(data, source, what="spec")
    except YamlRefused as exc:
        raise InvalidSpec([exc.issue]) from None


def schema_issues(exc: ValidationError, raw: dict[str, Any]) -> list[Issue]:
    """One `schema` issue per pydantic error, with the field path and the node id when there is one."""
    issues = []
    for error in _first_errors(exc, raw):
        loc = _without_layout_tags(tuple(error["loc"]))
        path = ".".join(str(part) for part in loc)
        node_id = _node_id_at(raw, loc)
        where = f"(node `{shorten(node_id, 64)}`) " if node_id else ""
        got = "" if error["type"] == "missing" else f" (got {short_repr(error.get('input'))})"
        msg = re.sub(r" or instance of \w+", "", error["msg"])  # class names mean nothing in a spec file
        issues.append(Issue(code="schema", path=path, node_id=node_id,
                            message=f"Spec field `{path}` {where}is invalid: {msg}{got}.",
                            hint=yaml_boolean_hint(error) or _schema_hint(error["type"], loc)))
    return issues


def _without_layout_tags(loc: tuple) -> tuple:
    """`layout.<key>.position.x` -> `layout.<key>.x`: the tag of a layout entry's kind is not a spec field."""
    for i in range(len(loc) - 2):
        if loc[i] == "layout" and loc[i + 2] in LAYOUT_TAGS:
            return loc[:i + 2] + _without_layout_tags(loc[i + 3:])
    return loc


def _first_errors(exc: ValidationError, raw: dict[str, Any]) -> list[Any]:
    """The first MAX_SCHEMA_ISSUES errors. Converting all of them takes seconds for a huge broken
    spec, so then the nodes and edges are re-checked one by one until enough are found."""
    if exc.error_count() <= MAX_SCHEMA_ISSUES:
        return exc.errors(include_url=False)
    lists = {key: raw[key] for key in ("nodes", "edges") if isinstance(raw.get(key), list)}
    errors = _errors_of(PipelineSpec, {k: v for k, v in raw.items() if k not in lists}, ())
    for key, model in (("nodes", NodeSpec), ("edges", EdgeSpec)):
        for i, item in enumerate(lists.get(key, ())):
            if len(errors) >= MAX_SCHEMA_ISSUES:
                return errors[:MAX_SCHEMA_ISSUES]
            errors += _errors_of(model, item, (key, i))
    return errors[:MAX_SCHEMA_ISSUES]


def _errors_of(model: type[PipelineSpec | NodeSpec | EdgeSpec], value: Any, prefix: tuple) -> list[Any]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)[:MAX_SCHEMA_ISSUES]
        return [{**e, "loc": prefix + tuple(e["loc"])} for e in errors]
    return []


def _node_id_at(raw: dict[str, Any], loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes")
        if isinstance(nodes, list) and loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict):
            node_id = nodes[loc[1]].get("id")
            return node_id if isinstance(node_id, str) else None
    return None


def yaml_boolean_hint(error: Any) -> str | None:
    """For text that arrived as a boolean: YAML reads unquoted yes/no/on/off/true/false as booleans."""
    if error["type"] == "string_type" and isinstance(error.get("input"), bool):
        return 'In YAML, unquoted yes/no/on/off/true/false are booleans, not text: put the value in quotes, e.g. `"on"`.'
    return None


def _schema_hint(error_type: str, loc: tuple) -> str:
    if error_type == "model_type" and loc[:1] == ("nodes",):
        return 'Each node is an object: {"id": "summarise", "component": "llm.chat", "params": {}}.'
    if error_type == "model_type" and loc[:1] == ("edges",):
        return ('Each edge is an object: {"source": {"node": "a", "port": "value"}, '
                '"target": {"node": "b", "port": "value"}}.')
    if error_type == "missing":
        return f"Add `{loc[-1]}`."
    if error_type == "extra_forbidden":
        return f"Remove `{loc[-1]}`; it is not part of the spec format (see `patchwire schema`)."
    if loc and loc[-1] == "id":
        return "Node ids start with a letter or _ and use letters, digits, _ and - (at most 64)."
    return "See `patchwire schema` for the spec format."


