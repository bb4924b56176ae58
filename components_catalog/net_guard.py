"""SSRF guard for every component that fetches a URL: `await check_url(url)` before connecting.

It refuses non-http(s) schemes and any host that resolves to a loopback, private, link-local,
multicast, reserved, unspecified or cloud-metadata address (IPv4-mapped/6to4/Teredo IPv6 forms and
decimal/octal/hex IPv4 spellings included). The caller then connects to `ResolvedTarget.address`,
the address that was checked, never to a fresh DNS answer (no DNS rebinding), and re-checks every
redirect hop itself.

Operators open holes with `PATCHWIRE_HTTP_ALLOW` (comma-separated): `api.internal` (a host name),
`*.corp.example` (its subdomains), `10.0.0.0/8` or `127.0.0.1` (addresses, CIDR), each optionally
limited to one port: `127.0.0.1:8080`, `[::1]:8080`, `api.internal:443`. An allowed host skips the
private-address refusal for all its addresses; an allowed address only for itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from runtime.errors import PermanentError, RetryableError

__all__ = ["BlockedURLError", "ResolvedTarget", "allow_rule_matches", "check_url", "redact_url", "ALLOW_ENV"]

ALLOW_ENV = "PATCHWIRE_HTTP_ALLOW"
ALLOWED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2"))
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")
_INET_ATON_CHARS = re.compile(r"^[0-9a-fA-FxX.]+$")


class BlockedURLError(PermanentError):
    """A URL the SSRF guard refuses to fetch (scheme, address or malformed authority)."""


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A URL that passed the guard, and the address to connect to (pinned)."""

    url: str
    scheme: str
    host: str  # lower-case host name or IP text, without brackets or trailing dot
    port: int
    address: str  # the checked address to connect to
    addresses: tuple[str, ...]  # every address the host resolved to (all were checked)
    allowed_by: str | None = None  # the PATCHWIRE_HTTP_ALLOW rule that opened a private address

    @property
    def host_header(self) -> str:
        """The `Host` header the server expects (the name, not the pinned address)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """Server name for TLS (SNI and certificate check) when connecting by address over https."""
        return self.host if self.scheme == "https" and not _is_ip(self.host) else None

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (credentials kept)."""
        parts = urlsplit(self.url)
        address = f"[{self.address}]" if ":" in self.address else self.address
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{address}:{self.port}" if userinfo else f"{address}:{self.port}"
        path = parts.path or "/"
        return f"{parts.scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")

    @property
    def redacted(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """`url` with any `user:password@` replaced by `***@`, for messages and traces."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            authority_end = min(authority_end, index)
    authority = rest[:authority_end]
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{rest[authority_end:]}"


async def check_url(url: str, also_allow: Sequence[str] = ()) -> ResolvedTarget:
    """Check `url` against the guard and resolve it; raise `BlockedURLError` saying why it is refused.

    `also_allow`: more rules in the `PATCHWIRE_HTTP_ALLOW` syntax, from the caller's own allow-list
    (the model bases an operator listed in `PATCHWIRE_MODEL_BASES`)."""
    parts, host, port = _parse(url)
    rules = [*_allow_rules(), *(_parse_rule(entry.strip()) for entry in also_allow if entry.strip())]
    host_rule = next((r for r in rules if r.matches_host(host, port)), None)
    addresses = await _resolve(url, host, port)
    allowed_by = host_rule.text if host_rule is not None else None
    for address in addresses:
        if host_rule is not None:
            continue
        address_rule = next((r for r in rules if r.matches_address(address, port)), None)
        if address_rule is not None:
            allowed_by = address_rule.text
            continue
        reason = blocked_reason(address)
        if reason is not None:
            raise BlockedURLError(_refusal(url, host, address, reason))
    return ResolvedTarget(url=url, scheme=parts.scheme.lower(), host=host, port=port, address=str(addresses[0]),
                          addresses=tuple(str(a) for a in addresses), allowed_by=allowed_by)


def blocked_reason(address: IPAddress) -> str | None:
    """Why connecting to `address` is refused by default ("a loopback address"), or None if public."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            inner = blocked_reason(embedded)
            return None if inner is None else f"{inner} (embedded IPv4 {embedded})"
    checks = (("is_unspecified", "an unspecified address"), ("is_loopback", "a loopback address"),
              ("is_link_local", "a link-local address"), ("is_multicast", "a multicast address"),
              ("is_private", "a private address"), ("is_reserved", "a reserved address"))
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    return None if address.is_global else "not a public internet address"


def _refusal(url: str, host: str, address: IPAddress, reason: str) -> str:
    shown = redact_url(url)
    subject = f"{address} is {reason}" if _is_ip(host) else f"{host} resolves to {address}, {reason}"
    suggestion = str(address) if _is_ip(host) else host
    return (f"Refused to fetch {shown}: {subject}. Outbound HTTP to private networks is blocked; allow it "
            f"with {ALLOW_ENV}={suggestion} if this is intended.")


def _parse(url: str) -> tuple[SplitResult, str, int]:
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURLError(f"Refused to fetch {shown}: it is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        got = f"the scheme `{scheme}:` is not allowed" if scheme else "it has no scheme"
        raise BlockedURLError(f"Refused to fetch {shown}: {got}. Only http:// and https:// URLs can be fetched.")
    if _AMBIGUOUS.search(parts.netloc):
        raise BlockedURLError(f"Refused to fetch {shown}: its host part contains a backslash, whitespace or a "
                              "control character, which URL parsers read differently. Fix the URL.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedURLError(f"Refused to fetch {shown}: it has no host name.")
    return parts, host, port if port is not None else _DEFAULT_PORTS[scheme]


async def _resolve(url: str, host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to; IP literals in any inet_aton spelling are parsed directly."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        message = (f"Could not resolve the host `{host}` of {redact_url(url)}: {exc.strerror}. "
                   "Check the host name.")
        if exc.errno == socket.EAI_AGAIN:
            raise RetryableError(message) from None
        raise PermanentError(message) from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise PermanentError(f"The host `{host}` of {redact_url(url)} resolved to no address.")
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _INET_ATON_CHARS.match(host):  # 2130706433, 0x7f.1, 0177.0.0.1, 127.1
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _is_ip(host: str) -> bool:
    return _ip_literal(host) is not None


@dataclass(frozen=True, slots=True)
class _Rule:
    text: str
    host: str | None = None  # exact name, or ".suffix" for `*.suffix`
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def matches_host(self, host: str, port: int) -> bool:
        if self.host is None or (self.port is not None and self.port != port):
            return False
        return host.endswith(self.host) if self.host.startswith(".") else host == self.host

    def matches_address(self, address: IPAddress, port: int) -> bool:
        if self.network is None or (self.port is not None and self.port != port):
            return False
        return address.version == self.network.version and address in self.network


def allow_rule_matches(entry: str, host: str, port: int) -> bool:
    """Whether one allow-list entry (this module's syntax) names `host` (a name or an IP literal) on `port`."""
    rule = _parse_rule(entry.strip())
    literal = _ip_literal(host)
    return rule.matches_host(host, port) or (literal is not None and rule.matches_address(literal, port))


def _allow_rules() -> list[_Rule]:
    """The rules in `PATCHWIRE_HTTP_ALLOW`, read on every check (so tests and operators can change it)."""
    return [_parse_rule(entry.strip()) for entry in os.environ.get(ALLOW_ENV, "").split(",") if entry.strip()]


def _parse_rule(entry: str) -> _Rule:
    body, port = entry, None
    if entry.startswith("["):
        body, _, rest = entry[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    else:
        try:
            return _Rule(entry, network=ipaddress.ip_network(entry, strict=False))
        except ValueError:
            head, sep, tail = entry.rpartition(":")
            if sep and tail.isdigit():
                body, port = head, int(tail)
    try:
        return _Rule(entry, network=ipaddress.ip_network(body, strict=False), port=port)
    except ValueError:
        name = body.lower().rstrip(".")
        return _Rule(entry, host=name[1:] if name.startswith("*.") else name, port=port)
