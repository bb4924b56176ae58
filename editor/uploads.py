"""Reading the editor's uploads (an imported spec, an Evaluate dataset) without holding more than the cap.

Starlette has spooled the file to disk by the time a handler runs; reading it whole would put all of it in
memory just to refuse it. `read_capped` reads at most `limit + 1` bytes, in chunks, and says which file was
too big, what the limit is and what to do instead.
"""

from __future__ import annotations

from typing import Any, Protocol

from runtime import InvalidSpec

from . import eval_store, templates

__all__ = ["UploadTooLarge", "read_capped", "read_spec_upload", "read_dataset_upload", "CHUNK_BYTES"]

CHUNK_BYTES = 1024 * 1024


class Upload(Protocol):
    size: int | None

    async def read(self, size: int = -1) -> bytes: ...


class UploadTooLarge(ValueError):
    """The upload is bigger than the cap; `size` is its size when the request said so (else None)."""

    def __init__(self, size: int | None):
        super().__init__(size)
        self.size = size


async def read_capped(upload: Upload, limit: int) -> bytes:
    """The upload's bytes, reading no more than `limit + 1` of them; raises `UploadTooLarge` past `limit`."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > limit:
        raise UploadTooLarge(size)
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = await upload.read(min(CHUNK_BYTES, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise UploadTooLarge(size if isinstance(size, int) else None)


async def read_spec_upload(upload: Any, filename: str) -> bytes:
    """An imported spec file's bytes; raises `InvalidSpec` (`file_too_large`) past the editor's import cap."""
    try:
        return await read_capped(upload, templates.MAX_IMPORT_BYTES)
    except UploadTooLarge as exc:
        raise InvalidSpec([templates.too_large_issue(filename, exc.size)]) from None


async def read_dataset_upload(upload: Any, filename: str) -> bytes:
    """An uploaded dataset's bytes; raises `eval_store.UploadRefused` past the editor's dataset cap."""
    try:
        return await read_capped(upload, eval_store.MAX_UPLOAD_BYTES)
    except UploadTooLarge as exc:
        raise eval_store.UploadRefused(eval_store.too_large_message(filename, exc.size)) from None
