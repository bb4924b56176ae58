"""Secret values masked in every log line of the process: the secrets rule (`runtime.secrets`) applied to
Python's logging, so a library that logs a request with its key, or an exception quoting a secret that a
handler logs with its traceback, writes `***` instead.

`install_log_redaction()` wraps the log record factory once per process (every logger, every handler,
uvicorn's and Reflex's included); the entry points call it: the `patchwire` commands, the HTTP service's
workers and the editor. With no secret in the environment a record costs one cached lookup more.
"""

from __future__ import annotations

import logging
from typing import Any

from .secrets import Redactor, env_redactor

__all__ = ["install_log_redaction", "redact_record"]

_FORMATTER = logging.Formatter()


def redact_record(record: logging.LogRecord, redactor: Redactor) -> logging.LogRecord:
    """`record` with the secret values masked in its message, traceback and stack text (in place)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a record whose args do not fit: logging reports it when it is emitted
        return record
    masked = redactor.text(message)
    if masked != message:
        _mask_message(record, redactor, masked)
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)  # what a Formatter would write
    if record.exc_text:
        record.exc_text = redactor.text(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.text(record.stack_info)
    return record


def _mask_message(record: logging.LogRecord, redactor: Redactor, masked: str) -> None:
    """Mask the format and its args, keeping their shape (uvicorn's access formatter reads the args); when
    an arg only shows a secret once formatted (an exception, an object), keep the masked text alone."""
    record.msg = redactor.value(record.msg)
    record.args = redactor.value(record.args)
    try:
        if record.getMessage() == masked:
            return
    except Exception:  # noqa: BLE001 - masking changed what the format expects: fall back to the text
        pass
    record.msg, record.args = masked, None


def install_log_redaction() -> None:
    """Mask secret values in every log record made from now on in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_secrets", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redactor = env_redactor()
        return record if redactor is None else redact_record(record, redactor)

    make_record.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
