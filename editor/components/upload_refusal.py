"""Reports a refused upload to the panel it came from (`assets/upload_refusal.jsx`).

Reflex's upload client keeps an HTTP error on `/_upload` (the 413 of `editor/upload_limit.py`, a proxy's limit,
a dropped connection) to the browser console; this invisible component hands it to `on_refused` instead, as
`{status, answer, files: [{name, size}]}`, for the upload sent to `handler`.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import EventHandler, passthrough_event_spec
from reflex.utils import format

__all__ = ["UploadRefusal", "upload_refusal"]


class UploadRefusal(rx.Component):
    library = rx.asset("upload_refusal.jsx").importable_path
    tag = "UploadRefusal"

    handler: rx.Var[str]  # the upload's event handler, as the `Reflex-Event-Handler` header names it
    on_refused: rx.EventHandler[passthrough_event_spec(dict)]


def upload_refusal(handler: EventHandler, on_refused: EventHandler) -> rx.Component:
    """Send a refusal of the uploads to `handler` (e.g. `EvalState.upload`) to `on_refused`."""
    return UploadRefusal.create(handler=format.format_event_handler(handler), on_refused=on_refused)
