"""Where the editor listens and who may talk to it, read from the environment (one source of truth).

- `PATCHWIRE_PORT` (else `PORT`, else 3000): the one port of the prod single-port server.
- `PATCHWIRE_HOST` (default 127.0.0.1): set `0.0.0.0` (or an address) to expose the editor; that then
  requires `PATCHWIRE_AUTH_TOKEN`.
- `PATCHWIRE_AUTH_TOKEN`: when set (always when exposed), every page, asset, websocket and API request
  needs it, as a cookie set by `/?access_token=...` or as `Authorization: Bearer ...`.
- `PATCHWIRE_ALLOWED_HOSTS`: extra host names users type in the address bar (e.g. behind DNS), comma
  separated; loopback names and this machine's names and addresses are always allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from runtime.http_guard import (
    MIN_TOKEN_LENGTH,
    allowed_hosts,
    extra_hosts,
    host_names,
    is_loopback,
    token_problem,
)

__all__ = ["ServerSettings", "server_settings", "LOOPBACK_HOSTS", "MIN_TOKEN_LENGTH"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    port: int
    host: str
    token: str | None
    extra_hosts: tuple[str, ...] = ()

    @property
    def exposed(self) -> bool:
        return not is_loopback(self.host)

    @property
    def gated(self) -> bool:
        return bool(self.token)

    def host_names(self) -> list[str]:
        return list(host_names(self.host, self.extra_hosts))

    def allowed_hosts(self) -> frozenset[str]:
        """`Host` header values the gate accepts (a DNS-rebinding guard): each name, with and without port."""
        return allowed_hosts(host_names(self.host, self.extra_hosts), self.port)

    def origins(self) -> list[str]:
        """CORS and websocket origins: this app's own, nothing else."""
        schemes = ("http", "https") if self.exposed else ("http",)
        return [f"{scheme}://{name}:{self.port}" for name in self.host_names() for scheme in schemes]

    def problems(self) -> list[str]:
        """Why this configuration must not start (empty when it may)."""
        if self.exposed and not self.token:
            return [f"PATCHWIRE_HOST={self.host} exposes the editor beyond this machine, so it needs a login token. "
                    "Set PATCHWIRE_AUTH_TOKEN to a long random secret, e.g. "
                    "`export PATCHWIRE_AUTH_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')`, "
                    "or leave PATCHWIRE_HOST unset to listen on 127.0.0.1 only."]
        weak = token_problem("PATCHWIRE_AUTH_TOKEN", self.token)
        return [weak] if weak else []


def server_settings(env: Mapping[str, str] | None = None) -> ServerSettings:
    env = os.environ if env is None else env
    raw_port = env.get("PATCHWIRE_PORT") or env.get("PORT") or "3000"
    try:
        port = int(raw_port)
    except ValueError:
        raise SystemExit(f"PATCHWIRE_PORT must be a port number, got {raw_port!r}.") from None
    return ServerSettings(port=port, host=env.get("PATCHWIRE_HOST") or "127.0.0.1",
                          token=env.get("PATCHWIRE_AUTH_TOKEN") or None, extra_hosts=extra_hosts(env))
