"""A start reuses the front-end build of the sources it compiled; a changed input builds and serves a new one.

(The key itself, pruning and the lock: tests/editor/test_frontend_build.py.)
"""

from __future__ import annotations

import re
import urllib.request
import uuid

from playwright.sync_api import Page

from . import ui
from .conftest import Servers
from .server import ROOT, Server

BUILT = re.compile(r"==> Front end changed or never built: building it \(key (\w+)\)")
REUSED = re.compile(r"==> Front end unchanged since it was built: reusing \.web/builds/(\w+) \(no rebuild\)")


def build_of(server: Server) -> tuple[str, str]:
    """("built" or "reused", the build's key), from the server's log."""
    log = server.log.read_text()
    found = [("built", m.group(1)) for m in BUILT.finditer(log)] + [("reused", m.group(1)) for m in REUSED.finditer(log)]
    assert len(found) == 1, log[-3000:]
    return found[0]


def test_a_second_start_reuses_the_build_and_the_page_finds_its_own_port(servers: Servers, page: Page) -> None:
    _, key = build_of(servers.get("default"))
    again = servers.restart()  # the same sources on a new free port
    assert build_of(again) == ("reused", key)
    ui.open_app(page, again.base)  # a build made for another port: the websocket must open on this one
    ui.wait_ready(page)


def test_a_changed_asset_builds_a_new_front_end_and_serves_it(servers: Servers) -> None:
    probe, copied = ROOT / "assets" / "build_probe.txt", ROOT / ".web" / "public" / "build_probe.txt"
    content = f"probe {uuid.uuid4()}"  # never built before, so never in a kept build
    try:
        probe.write_text(content)
        server = servers.start("build-probe")
        how, key = build_of(server)
        assert how == "built"
        with urllib.request.urlopen(server.base + "/build_probe.txt", timeout=10) as response:
            assert response.read().decode() == content
        assert (ROOT / ".web" / "builds" / key / "client" / "build_probe.txt").read_text() == content
    finally:
        probe.unlink(missing_ok=True)
        copied.unlink(missing_ok=True)  # Reflex copies assets but never deletes: back to the default's inputs
        servers.close()
