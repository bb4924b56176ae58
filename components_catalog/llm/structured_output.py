"""Structured output: the `response_format` asking a model for JSON matching a schema, and the check of its reply."""

from __future__ import annotations

import json
import re
from typing import Any

from runtime.errors import PermanentError, RetryableError

__all__ = ["json_schema_format", "parse_json_reply", "schema_definition_problem"]


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """litellm's (OpenAI's) structured-output `response_format` for `schema`."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": safe, "schema": schema, "strict": True}}


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_json_reply(text: str, schema: dict[str, Any] | None, model: str) -> Any:
    """The reply parsed as JSON and checked against `schema`; a bad reply is a `RetryableError`."""
    fenced = _FENCE.match(text)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except ValueError as exc:
        raise RetryableError(f"Model `{model}` was asked for JSON matching the response schema but replied "
                             f"with text that is not JSON ({exc}): {text[:120]!r}.") from None
    problem = _schema_problem(data, schema) if schema else None
    if problem:
        raise RetryableError(f"Model `{model}` replied with JSON that does not match the response schema: "
                             f"{problem}. Reply: {text[:120]!r}.")
    return data


def _schema_problem(data: Any, schema: dict[str, Any]) -> str | None:
    """What is wrong with `data` under `schema` (jsonschema if installed, else a basic check)."""
    try:
        import jsonschema
    except ImportError:
        if schema.get("type") == "object":
            if not isinstance(data, dict):
                return f"expected an object, got {type(data).__name__}"
            missing = [key for key in schema.get("required", []) if key not in data]
            return f"missing required keys {missing}" if missing else None
        return None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"{exc.message}" + (f" (at `{where}`)" if where else "")
    except jsonschema.SchemaError as exc:
        raise PermanentError(f"The response schema itself is not a valid JSON Schema: {exc.message}. "
                             "Fix the node's `response_schema` param.") from None
    return None


def schema_definition_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` itself is not a valid JSON Schema (jsonschema if installed, else not checked), else None.

    Checked when the spec is validated, so a typo fails there, not after a paid model call."""
    try:
        import jsonschema
        from jsonschema.validators import validator_for
    except ImportError:
        return None
    try:
        validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return exc.message + (f" (at `{where}`)" if where else "")
    return None
