"""Warm start: the run bar says "warming up…" while litellm, the embedder and Chroma load in the
background, and "ready" once they have; the page works meanwhile."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from . import ui
from .conftest import Servers
from .server import Server

DELAY_S = 8  # the warm-up starts this late, so the page is certainly open before it ends


@pytest.fixture
def late_warmup_server(servers: Servers) -> Server:
    return servers.get("late-warmup", {"PATCHWIRE_WARMUP": "1", "PATCHWIRE_WARMUP_DELAY_S": str(DELAY_S)})


def test_the_run_bar_says_warming_up_then_ready(late_warmup_server: Server, page: Page) -> None:
    ui.open_app(page, late_warmup_server.base)  # the page loads and hydrates while the warm-up waits / runs
    status = page.get_by_test_id("warmup-status")
    expect(status).to_have_attribute("data-state", "warming")
    expect(status).to_have_text("warming up…")
    expect(page.get_by_test_id("run-button")).to_be_enabled()  # running is allowed meanwhile (just slower)
    ui.drop(page, "e2e.source", 60, 80)  # and editing works
    expect(status).to_have_attribute("data-state", "ready", timeout=120_000)
    expect(status).to_have_text("ready")

    page.reload()  # a page opened later shows ready straight away
    ui.wait_ready(page)
    expect(status).to_have_attribute("data-state", "ready")
