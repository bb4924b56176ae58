"""What the user sees when a handler fails unexpectedly: a plain sentence, never a traceback (that goes to the log)."""

import logging

import reflex as rx
from reflex.event import EventSpec  # a real annotation (no `from __future__`): Reflex inspects it

__all__ = ["backend_exception_handler"]

log = logging.getLogger("editor")


def backend_exception_handler(exception: Exception) -> EventSpec:
    log.error("editor handler failed", exc_info=(type(exception), exception, exception.__traceback__))
    detail = str(exception).strip().splitlines()[0][:300] if str(exception).strip() else ""
    return rx.toast.error(
        "Something went wrong on the server, so your last action may not have been applied.",
        description=(f"{type(exception).__name__}: {detail}. " if detail else f"{type(exception).__name__}. ")
        + "The full error is in the server log; reloading the page shows what is saved.",
        duration=10000, id="backend_error",
    )
