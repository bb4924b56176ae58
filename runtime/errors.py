"""Exceptions components raise to steer the runtime's retry policy."""

from __future__ import annotations

__all__ = ["ComponentError", "PermanentError", "RetryableError", "ComponentDefinitionError", "SecretError"]


class ComponentError(Exception):
    """A failure a component reports on purpose, with a message meant for the user."""


class PermanentError(ComponentError):
    """Retrying cannot help (bad credentials, a malformed request, input too long): fail fast."""

    retryable = False


class RetryableError(ComponentError):
    """A transient failure; `retry_after` (seconds) overrides the backoff, e.g. from HTTP 429."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ComponentDefinitionError(TypeError):
    """A component class breaks the contract; raised at import time with the fix."""


class SecretError(PermanentError):
    """A secret was asked for that the operator did not allow, or that is not set."""
