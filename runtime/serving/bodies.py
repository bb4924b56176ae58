"""Reading a request body: a size limit (413) while it arrives, and the `{"inputs": {...}}` JSON of a run."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from .runner import ApiError

__all__ = ["read_body", "run_inputs"]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise _too_large(int(declared), limit)
        return await request.body()  # the server stops reading at the declared length
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"Request body too large: {size} bytes, the limit is {limit} bytes. Send large data "
                         "by reference (an id or a URL), or raise the limit with --max-body-bytes.")


def run_inputs(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_constant=_not_json) if body.strip() else None
    except UnicodeDecodeError:
        raise ApiError(400, "Malformed JSON: the body is not UTF-8 text.") from None
    except _NotJson as exc:
        raise ApiError(400, f"Malformed JSON: `{exc}` is not a JSON value (JSON has no NaN or Infinity). Send "
                            "a finite number, or null.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. The body must "
                            'be a JSON object like {"inputs": {"query": "..."}}.') from None
    if data is None:
        raise ApiError(400, 'Empty body: send a JSON object like {"inputs": {"query": "..."}}.')
    if not isinstance(data, dict) or not isinstance(data.get("inputs", {}), dict):
        raise ApiError(422, 'The body must be a JSON object with an object `inputs`, like '
                            '{"inputs": {"query": "..."}}.')
    unknown = sorted(set(data) - {"inputs"})
    if unknown:
        raise ApiError(422, f"Unknown body field(s) {', '.join(f'`{k}`' for k in unknown)}: the body has only "
                            "`inputs`.")
    return data.get("inputs", {})


class _NotJson(Exception):
    """`NaN`, `Infinity` or `-Infinity` in a body: Python's json reads them, JSON does not have them."""


def _not_json(constant: str) -> Any:
    raise _NotJson(constant)

