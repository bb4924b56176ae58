"""Who may talk to a Patchwire HTTP server: the one rule shared by the editor and `patchwire serve`.

- `Host`: a DNS-rebinding guard. A server bound to loopback answers only to its loopback names
  (`127.0.0.1`, `localhost`, `[::1]`), bare or with its port, plus the names in `PATCHWIRE_ALLOWED_HOSTS`
  (comma separated). Bound beyond loopback, this machine's names and addresses count as well.
- Tokens: at least `MIN_TOKEN_LENGTH` characters, compared in constant time.

Standard library only: the editor imports this without the serving stack, and the CLI on every start
(so `hmac` and `socket` load only when used).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

__all__ = ["ALLOWED_HOSTS_ENV", "LOOPBACK_NAMES", "MIN_TOKEN_LENGTH", "allowed_hosts", "bearer_token",
           "extra_hosts", "host_names", "host_refusal", "is_loopback", "token_problem", "tokens_match"]

ALLOWED_HOSTS_ENV = "PATCHWIRE_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # as a `Host` header spells them
MIN_TOKEN_LENGTH = 16
TOKEN_HINT = "e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine can reach (`localhost`, 127.0.0.0/8, `::1`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def extra_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """The names listed in `PATCHWIRE_ALLOWED_HOSTS`, lower-cased."""
    return tuple(h.strip().lower() for h in env.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip())


def host_names(bind_host: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The names a server bound to `bind_host` answers to, without ports."""
    names = list(LOOPBACK_NAMES)
    if not is_loopback(bind_host):
        names += _machine_names()
        if bind_host not in ("0.0.0.0", "::"):
            names.append(f"[{bind_host}]" if ":" in bind_host else bind_host)
    names += [name.lower() for name in extra]
    return tuple(dict.fromkeys(names))


@lru_cache(maxsize=64)
def allowed_hosts(names: tuple[str, ...], port: int | None) -> frozenset[str]:
    """Every `Host` header value accepted for `names` on `port`: each name bare and with the port."""
    return frozenset(h for name in names for h in (name, *((f"{name}:{port}",) if port else ())))


def host_refusal(host: str) -> str:
    return (f"The `Host` header `{host}` is not allowed here (a guard against DNS rebinding). If this is how "
            f"you reach Patchwire, add the name to {ALLOWED_HOSTS_ENV} (comma separated).")


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    import hmac

    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())  # type: ignore[union-attr]


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_problem(env_name: str, token: str | None) -> str | None:
    """Why `token` (read from `env_name`) is too weak to start with, or None."""
    if token and len(token) < MIN_TOKEN_LENGTH:
        return (f"{env_name} is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} "
                f"({TOKEN_HINT}).")
    return None


def _machine_names() -> list[str]:
    import socket

    names: list[str] = []
    try:
        hostname = socket.gethostname()
        names += [hostname, socket.getfqdn()]
        for *_, sockaddr in socket.getaddrinfo(hostname, None):
            address = str(sockaddr[0])
            names.append(f"[{address}]" if ":" in address else address)
    except OSError:
        pass
    return [n.lower() for n in names if n]
