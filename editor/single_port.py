"""One front-end build for every port: the page finds its backend on its own origin.

Reflex writes each backend URL with the port (`ws://localhost:3000/_event`) into `.web/env.json`, which the
bundler compiles into the page, so each port would need its own build (and every test server picks a free
port). Served on one port, the backend always is the page's own origin: the launcher writes the URLs without
a port plus `SAME_ORIGIN_PORT`, and Reflex's `getBackendURL` (which already takes the page's host name for
`localhost`) then takes the page's port too. Without the flag (dev mode, plain `reflex run`) the patched
function behaves as Reflex's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["STATE_JS", "patch_backend_url", "portless_env"]

STATE_JS = "utils/state.js"
FLAG = "SAME_ORIGIN_PORT"
ANCHOR = "    endpoint.hostname = frontend_hostname;\n"
PATCHED = ANCHOR + f"    if (env.{FLAG}) endpoint.port = window.location.port; // Patchwire: one port\n"


def patch_backend_url(state_js: str) -> str:
    """Reflex's `utils/state.js` with the page's port used when `env.SAME_ORIGIN_PORT` is set (idempotent)."""
    if PATCHED in state_js:
        return state_js
    if state_js.count(ANCHOR) != 1:
        raise RuntimeError(
            f"Reflex's .web/{STATE_JS} no longer sets `endpoint.hostname = frontend_hostname;` once in "
            "getBackendURL, so the one-port front end cannot find its backend. Update editor/single_port.py "
            "for this Reflex version.")
    return state_js.replace(ANCHOR, PATCHED)


def portless_env(env_json: Mapping[str, Any]) -> dict[str, Any]:
    """env.json with the port left out of every `localhost` URL, and the flag that says to use the page's."""
    out: dict[str, Any] = {name: _portless(value) for name, value in env_json.items()}
    out[FLAG] = True
    return out


def _portless(value: Any) -> Any:
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    if parts.hostname != "localhost":  # a configured api_url names its own host: keep it as it is
        return value
    return urlunsplit(parts._replace(netloc="localhost"))
