"""An unexpected server error reaches the user as a sentence, not a traceback."""

from __future__ import annotations

from editor.errors import backend_exception_handler


def test_backend_errors_become_a_readable_toast(caplog):
    try:
        raise KeyError("positions")
    except KeyError as exc:
        spec = backend_exception_handler(exc)
    text = str(spec.args)
    assert "Something went wrong on the server" in text and "KeyError: 'positions'" in text
    assert "Traceback" not in text
    assert "editor handler failed" in caplog.text
