"""`patchwire serve`: the HTTP service (FastAPI) that runs compiled pipelines per request."""

from .app import DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_S, ServeConfigError, app_from_env, create_app

__all__ = ["create_app", "app_from_env", "ServeConfigError", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_REQUEST_TIMEOUT_S"]
