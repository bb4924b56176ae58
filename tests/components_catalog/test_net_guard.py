"""The SSRF guard: schemes, private/loopback/metadata addresses in every spelling, allow-list, pinning."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from components_catalog.net_guard import BlockedURLError, blocked_reason, check_url, redact_url
from runtime.errors import PermanentError, RetryableError

MAPPED = str(ipaddress.ip_address("::ffff:127.0.0.1"))  # Python 3.11 prints ::ffff:7f00:1, 3.13 the dotted form
HINT = "Outbound HTTP to private networks is blocked; allow it with PATCHWIRE_HTTP_ALLOW={} if this is intended."


@pytest.fixture(autouse=True)
def no_allow_list(monkeypatch):
    monkeypatch.delenv("PATCHWIRE_HTTP_ALLOW", raising=False)


@pytest.fixture
def fake_dns(monkeypatch):
    """Answer getaddrinfo from a table (the event loop calls `socket.getaddrinfo` in a thread)."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


async def refusal(url: str) -> str:
    with pytest.raises(BlockedURLError) as err:
        await check_url(url)
    assert isinstance(err.value, PermanentError)
    return str(err.value)


@pytest.mark.parametrize(("url", "subject", "allow"), [
    ("http://127.0.0.1/", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("http://10.0.0.1/admin", "10.0.0.1 is a private address", "10.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address", "169.254.169.254"),
    ("http://[::1]:8080/", "::1 is a loopback address", "::1"),
    ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address", "fd00:ec2::254"),
    ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata address", "100.100.100.200"),
    ("http://0.0.0.0:8000/", "0.0.0.0 is an unspecified address", "0.0.0.0"),
    ("http://[::]/", ":: is an unspecified address", "::"),
    ("http://[::ffff:127.0.0.1]/", f"{MAPPED} is a loopback address (embedded IPv4 127.0.0.1)", MAPPED),
    ("http://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe is a cloud metadata address (embedded IPv4 169.254.169.254)",
     "::ffff:a9fe:a9fe"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1:: is a loopback address (embedded IPv4 127.0.0.1)", "2002:7f00:1::"),
    ("http://2130706433/", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("http://0x7f.1/", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("http://0177.0.0.1/", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("http://127.1/", "127.0.0.1 is a loopback address", "127.0.0.1"),
    ("https://192.168.1.20/", "192.168.1.20 is a private address", "192.168.1.20"),
    ("http://172.16.5.4/", "172.16.5.4 is a private address", "172.16.5.4"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address", "fe80::1"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address", "224.0.0.1"),
    ("http://100.64.0.1/", "100.64.0.1 is not a public internet address", "100.64.0.1"),
])
async def test_private_addresses_are_refused_with_the_reason(url, subject, allow):
    assert await refusal(url) == f"Refused to fetch {url}: {subject}. {HINT.format(allow)}"


async def test_a_hostname_resolving_to_loopback_is_refused():
    message = await refusal("http://localhost:8000/status")
    assert message.startswith("Refused to fetch http://localhost:8000/status: localhost resolves to ")
    assert message.endswith(f", a loopback address. {HINT.format('localhost')}")


async def test_any_private_answer_refuses_the_host(fake_dns):
    fake_dns["mixed.example.com"] = ["93.184.215.14", "10.0.0.5"]
    assert await refusal("https://mixed.example.com/") == (
        "Refused to fetch https://mixed.example.com/: mixed.example.com resolves to 10.0.0.5, a private address. "
        + HINT.format("mixed.example.com"))


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "Refused to fetch file:///etc/passwd: the scheme `file:` is not allowed. Only http:// "
                           "and https:// URLs can be fetched."),
    ("gopher://127.0.0.1:25/_HELO", "Refused to fetch gopher://127.0.0.1:25/_HELO: the scheme `gopher:` is not "
                                    "allowed. Only http:// and https:// URLs can be fetched."),
    ("ftp://example.com/x", "Refused to fetch ftp://example.com/x: the scheme `ftp:` is not allowed. Only http:// "
                            "and https:// URLs can be fetched."),
    ("//example.com/x", "Refused to fetch //example.com/x: it has no scheme. Only http:// and https:// URLs can "
                        "be fetched."),
    ("http:///path", "Refused to fetch http:///path: it has no host name."),
    ("http://example.com:99999/", "Refused to fetch http://example.com:99999/: it is not a valid URL "
                                  "(Port out of range 0-65535)."),
    ("http://evil.com\\@127.0.0.1/", "Refused to fetch http://***@127.0.0.1/: its host part contains a "
                                     "backslash, whitespace or a control character, which URL parsers read "
                                     "differently. Fix the URL."),
])
async def test_bad_schemes_and_malformed_urls_are_refused(url, message):
    assert await refusal(url) == message


async def test_credentials_are_redacted_in_messages():
    message = await refusal("http://admin:hunter2@127.0.0.1/")
    assert "hunter2" not in message and "admin" not in message
    assert message.startswith("Refused to fetch http://***@127.0.0.1/: 127.0.0.1 is a loopback address.")


def test_redact_url():
    assert redact_url("https://u:p@host:8443/a?b=1#c") == "https://***@host:8443/a?b=1#c"
    assert redact_url("https://host/a@b") == "https://host/a@b"
    assert redact_url("no scheme") == "no scheme"


async def test_a_public_address_is_pinned(fake_dns):
    fake_dns["api.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    target = await check_url("https://user:pw@API.example.com./v1/items?q=a%20b#frag")
    assert (target.host, target.port, target.address) == ("api.example.com", 443, "93.184.215.14")
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert target.pinned_url() == "https://user:pw@93.184.215.14:443/v1/items?q=a%20b"
    assert (target.host_header, target.sni_hostname, target.allowed_by) == ("api.example.com", "api.example.com",
                                                                            None)
    literal = await check_url("http://[2606:4700::1111]:8080")
    assert literal.pinned_url() == "http://[2606:4700::1111]:8080/"
    assert (literal.host_header, literal.sni_hostname) == ("[2606:4700::1111]:8080", None)


@pytest.mark.parametrize(("allow", "url", "allowed_by"), [
    ("127.0.0.1", "http://127.0.0.1:5000/", "127.0.0.1"),
    ("127.0.0.0/8", "http://127.3.4.5/", "127.0.0.0/8"),
    ("127.0.0.1:8080", "http://127.0.0.1:8080/", "127.0.0.1:8080"),
    ("[::1]:8080", "http://[::1]:8080/", "[::1]:8080"),
    ("::1", "http://[::1]/", "::1"),
    ("localhost", "http://localhost:1234/", "localhost"),
    ("other.host, *.corp.example", "http://wiki.eu.corp.example/", "*.corp.example"),
    ("wiki.corp.example:443", "https://wiki.corp.example/", "wiki.corp.example:443"),
])
async def test_the_allow_list_opens_exactly_what_it_names(monkeypatch, fake_dns, allow, url, allowed_by):
    fake_dns.update({"localhost": ["127.0.0.1"], "wiki.eu.corp.example": ["10.1.2.3"],
                     "wiki.corp.example": ["10.1.2.4"]})
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", allow)
    assert (await check_url(url)).allowed_by == allowed_by


@pytest.mark.parametrize(("allow", "url", "subject"), [
    ("127.0.0.1:8080", "http://127.0.0.1:9090/", "127.0.0.1 is a loopback address"),
    ("*.corp.example", "http://corp.example/", "corp.example resolves to 10.9.9.9, a private address"),
    ("*.corp.example", "http://evilcorp.example/", "evilcorp.example resolves to 10.9.9.8, a private address"),
    ("10.0.0.0/8", "http://192.168.0.1/", "192.168.0.1 is a private address"),
    ("wiki.corp.example:443", "http://wiki.corp.example/", "wiki.corp.example resolves to 10.1.2.4, a private "
                                                          "address"),
])
async def test_the_allow_list_opens_nothing_else(monkeypatch, fake_dns, allow, url, subject):
    fake_dns.update({"corp.example": ["10.9.9.9"], "evilcorp.example": ["10.9.9.8"],
                     "wiki.corp.example": ["10.1.2.4"]})
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", allow)
    assert (await refusal(url)).startswith(f"Refused to fetch {url}: {subject}.")


async def test_resolution_failures(fake_dns, monkeypatch):
    with pytest.raises(PermanentError) as err:
        await check_url("http://nope.invalid/")
    assert str(err.value) == ("Could not resolve the host `nope.invalid` of http://nope.invalid/: Name or service "
                              "not known. Check the host name.")

    def flaky(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", flaky)
    with pytest.raises(RetryableError, match="Temporary failure in name resolution"):
        await check_url("http://dns-down.example/")


def test_blocked_reason_allows_public_addresses():
    for public in ("8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8"):
        assert blocked_reason(ipaddress.ip_address(public)) is None
