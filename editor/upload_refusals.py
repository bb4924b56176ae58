"""What to tell the user when the server refused an upload before any handler ran.

The browser reports the failed `/_upload` request (`assets/upload_refusal.jsx`): its HTTP status (0 when the
connection closed without an answer, as when `upload_limit.py` cuts off a body over every cap), the server's
answer and each file's name and size as the browser knows them. An oversized file gets the same message the
handlers give (`templates.too_large_issue`, `eval_store.too_large_message`); anything else says what failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from runtime import Issue
from runtime.secrets import redact_text

from . import eval_store, templates

__all__ = ["RefusedUpload", "dataset_refusal_message", "import_refusal_issue"]

ANSWER_CHARS = 200


@dataclass(frozen=True)
class RefusedUpload:
    filename: str
    size: int | None  # None: the browser did not say
    status: int  # 0: no answer (the connection closed)
    answer: str  # the server's plain-text answer, shortened; "" for none or an HTML page

    @classmethod
    def from_browser(cls, detail: Any, default_name: str) -> RefusedUpload:
        """From the browser's report, which is untrusted input: wrong types become "unknown"."""
        detail = detail if isinstance(detail, dict) else {}
        files = detail.get("files") if isinstance(detail.get("files"), list) else []
        first = files[0] if files and isinstance(files[0], dict) else {}
        name = first.get("name") if isinstance(first.get("name"), str) else ""
        size = first.get("size")
        status = detail.get("status")
        answer = detail.get("answer") if isinstance(detail.get("answer"), str) else ""
        answer = " ".join(answer.split())
        return cls(filename=PurePosixPath(name).name[:200] or default_name,
                   size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
                   status=status if isinstance(status, int) and not isinstance(status, bool) else 0,
                   answer="" if answer.startswith("<") else redact_text(answer[:ANSWER_CHARS]))

    def too_large_for(self, limit: int) -> bool:
        """Over `limit`, or refused as too large by a server that did not let the browser say how big."""
        return (self.size is not None and self.size > limit) or (self.status == 413 and self.size is None)

    def why(self) -> str:
        if self.status == 413:
            shown = f" ({self.size:,} bytes)" if self.size is not None else ""
            return (f"`{self.filename}`{shown} was refused as too large before it reached the editor "
                    "(HTTP 413): a proxy in front of the editor may take less than the editor does")
        if self.status == 0:
            return (f"`{self.filename}` was not uploaded: the connection closed before the editor answered "
                    "(the editor may have stopped or restarted)")
        said = f": {self.answer}" if self.answer else ""
        return f"`{self.filename}` was not uploaded: the editor answered HTTP {self.status}{said}"


def dataset_refusal_message(refused: RefusedUpload) -> str:
    """For the Evaluate tab's dataset upload (shown where a dataset the handler refused is)."""
    if refused.too_large_for(eval_store.MAX_UPLOAD_BYTES):
        return eval_store.too_large_message(refused.filename, refused.size)
    if refused.status == 413:
        return f"{refused.why()}. Upload a smaller dataset, or run this one with `patchwire eval`."
    return f"{refused.why()}. Try again; if it keeps failing, the editor's log says why."


def import_refusal_issue(refused: RefusedUpload) -> Issue:
    """For the New pipeline dialog's spec import (shown with the other import errors)."""
    if refused.too_large_for(templates.MAX_IMPORT_BYTES):
        return templates.too_large_issue(refused.filename, refused.size)
    hint = ("Check that this is the right file, or ask whoever runs the proxy to allow bigger uploads."
            if refused.status == 413 else "Try again; if it keeps failing, the editor's log says why.")
    return Issue(code="upload_refused", message=f"{refused.why()}.", hint=hint)
