"""Fixtures shared by the catalog tests."""

from __future__ import annotations

import threading

import pytest

from tests.components_catalog.http_kit import LoopbackServer


@pytest.fixture
def server(monkeypatch):
    """A loopback HTTP server for `action.http` (`http_kit.LoopbackServer`); PATCHWIRE_HTTP_ALLOW opens exactly
    its address and port, nothing else."""
    httpd = LoopbackServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    monkeypatch.setenv("PATCHWIRE_HTTP_ALLOW", f"127.0.0.1:{port}")
    httpd.base = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
