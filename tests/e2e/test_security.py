"""Secure defaults: loopback only, CORS pinned to the app's origin, and the token gate when one is set."""

from __future__ import annotations

import os
import subprocess
import urllib.request

import psutil
import pytest
import websockets.sync.client as ws_client
from playwright.sync_api import Browser, Page, expect
from websockets.exceptions import InvalidStatus

from . import ui
from .conftest import TOKEN
from .server import ROOT, Server

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def _ws_status(server: Server, headers: dict[str, str] | None = None) -> int:
    url = server.base.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket"
    try:
        with ws_client.connect(url, additional_headers=headers or {}, open_timeout=10) as ws:
            return 101 if str(ws.recv(timeout=10)).startswith("0") else 0
    except InvalidStatus as exc:
        return exc.response.status_code


def _listening(server: Server) -> set[str]:
    addresses = set()
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) != server.pid:
                continue
            addresses |= {c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        except (psutil.Error, ProcessLookupError):
            continue
    return addresses


# --- the default server (no token) -----------------------------------------------------------------
def test_default_server_listens_on_loopback_with_origin_checks(server: Server) -> None:
    assert _listening(server) == {"127.0.0.1"}
    status, headers, _ = _get(server.base + "/ping", {"Origin": "http://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers
    status, headers, _ = _get(server.base + "/ping", {"Origin": server.base})
    assert headers.get("access-control-allow-origin") == server.base
    assert _ws_status(server, {"Origin": "http://evil.example"}) == 403
    assert _ws_status(server, {"Origin": server.base}) == 101
    # A DNS-rebinding page reaches 127.0.0.1 under its own host name: refused.
    status, _, body = _get(server.base + "/api/pipelines", {"Host": f"evil.example:{server.port}"})
    assert status == 400 and "PATCHWIRE_ALLOWED_HOSTS" in body


@pytest.mark.parametrize("how", [{"PATCHWIRE_HOST": "0.0.0.0"}, {"ARG": "--expose"}])
def test_exposing_the_editor_without_a_token_is_refused(how: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PATCHWIRE_AUTH_TOKEN", "PATCHWIRE_HOST")}
    env.update({k: v for k, v in how.items() if k != "ARG"})
    args = [str(ROOT / "scripts" / "run.sh"), *([how["ARG"]] if "ARG" in how else [])]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "needs a login token" in result.stderr and "PATCHWIRE_AUTH_TOKEN" in result.stderr


# --- the gated server (PATCHWIRE_AUTH_TOKEN set) --------------------------------------------------
def test_every_route_needs_the_token(gated_server: Server) -> None:
    base = gated_server.base
    for path in ("/", "/pipelines", "/ping", "/_health", "/api/pipelines", "/flow_canvas.jsx", "/assets/x.js"):
        status, _, body = _get(base + path)
        assert status == 401, path
        assert "login token" in body
    assert _get(base + "/?access_token=wrong-token-0123456789")[0] == 401
    for path in ("/", "/ping", "/api/pipelines"):
        assert _get(base + path, BEARER)[0] == 200, path
    assert _ws_status(gated_server) == 403
    assert _ws_status(gated_server, BEARER) == 101
    assert _ws_status(gated_server, {**BEARER, "Origin": "http://evil.example"}) == 403
    assert _get(base + "/ping", {**BEARER, "Host": f"evil.example:{gated_server.port}"})[0] == 400

    status, headers, _ = _get(f"{base}/pipelines?access_token={TOKEN}&x=1")
    assert status == 303 and headers["location"] == "/pipelines?x=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"patchwire_auth_{gated_server.port}=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and headers["referrer-policy"] == "no-referrer"


def test_browser_logs_in_once_with_the_token_link(gated_server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page: Page = context.new_page()
        assert page.goto(gated_server.base + "/").status == 401  # type: ignore[union-attr]
        page.goto(f"{gated_server.base}/?access_token={TOKEN}")
        page.wait_for_url("**/pipelines/*")
        assert "access_token" not in page.url
        ui.wait_ready(page)
        ui.drop(page, "e2e.source", 60, 80)  # the websocket works through the cookie
        expect(ui.node(page, "source")).to_be_visible()
        cookie = next(c for c in context.cookies() if c["name"] == f"patchwire_auth_{gated_server.port}")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        context.clear_cookies()
        assert page.reload().status == 401  # type: ignore[union-attr]
    finally:
        context.close()
