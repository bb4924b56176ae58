"""A size limit on the editor's upload endpoint (`/_upload`) while the request arrives.

Starlette spools a whole multipart body to a temporary file before an upload handler runs, so the handlers'
caps (`uploads.py`) alone would let a huge upload fill the disk first. Here a body larger than the biggest cap
plus room for the multipart framing gets 413 before it is read (by its `Content-Length`), or as soon as the
count passes the limit (a body without one): the app then sees a disconnect and its answer is replaced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import eval_store, templates

__all__ = ["UploadLimit", "UPLOAD_PATH", "upload_limit_bytes"]

UPLOAD_PATH = "/_upload"  # reflex_base.constants.Endpoint.UPLOAD
FRAMING_BYTES = 1024 * 1024  # multipart boundaries, part headers and the event's other fields

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def upload_limit_bytes() -> int:
    return max(templates.MAX_IMPORT_BYTES, eval_store.MAX_UPLOAD_BYTES) + FRAMING_BYTES


class UploadLimit:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") != UPLOAD_PATH:
            return await self.app(scope, receive, send)
        limit = upload_limit_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send, declared, limit)
        seen, over = 0, False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not over:
                await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:  # an app that fails on the cut-off body: the refusal says why
            if not over:
                raise
        if over:
            await _refuse(send, None, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Any, size: int | None, limit: int) -> None:
    shown = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
    message = (f"The upload is {shown}; the editor takes uploads up to {limit:,} bytes (spec imports up to "
               f"{templates.MAX_IMPORT_BYTES:,} bytes, datasets up to {eval_store.MAX_UPLOAD_BYTES:,} bytes). "
               "Run bigger datasets with `patchwire eval`.")
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": message.encode()})
