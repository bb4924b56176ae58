"""Browser tests: the editor started like `make run` does, driven through Debian's Chromium by Playwright."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .server import Server, run_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
TOKEN = "e2e-token-0123456789abcdef-xyz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    e2e = [i for i, item in enumerate(items) if "/tests/e2e/" in str(item.fspath)]
    for i in e2e:
        items[i].add_marker(pytest.mark.e2e)
    # Each switch between editor servers (default, gated, big, ...) starts a new one (~6-11 s on a loaded
    # machine, reusing the kept front-end build): run the tests of each server together, the default's first.
    # A stable sort, so tests keep their order within a server's group (and a module's within it).
    groups: dict[str, int] = {"": 0}
    ordered = sorted((items[i] for i in e2e), key=lambda item: groups.setdefault(_server_group(item), len(groups)))
    for i, item in zip(e2e, ordered, strict=True):
        items[i] = item


def _server_group(item: pytest.Item) -> str:
    """Which editor server a test needs: "" for the default one (or none), else the fixture starting it
    (`gated_server`, `big_server`, ...), or its module for a test that starts its own through `servers`."""
    names = getattr(item, "fixturenames", ())
    if "server" in names:
        return ""
    named = [name for name in names if name.endswith("_server")]
    if named:
        return named[0]
    return item.module.__name__ if "servers" in names and item.module is not None else ""


class Servers:
    """At most one editor server at a time: each start compiles into this checkout's `.web/`."""

    def __init__(self) -> None:
        self._stack: contextlib.ExitStack | None = None
        self.name: str | None = None
        self.current: Server | None = None
        self.made_dirs: list[Path] = []  # data directories the servers made (removed when the pool closes)

    def get(self, name: str, env: dict[str, str] | None = None) -> Server:
        if self.name != name or self.current is None:
            self.start(name, env)
        assert self.current is not None
        return self.current

    def start(self, name: str, env: dict[str, str] | None = None, data_dir: Path | None = None) -> Server:
        self.close()
        self._stack = contextlib.ExitStack()
        # The default server's fresh data directory gets the demo knowledge base (the RAG template's).
        demo_kb = name == "default" and data_dir is None
        self.current = self._stack.enter_context(run_server(env, data_dir=data_dir, demo_kb=demo_kb))
        if data_dir is None:
            self.made_dirs.append(self.current.data_dir)
        self.name = name
        return self.current

    def restart(self) -> Server:
        """Stop the current server and start a new one on the same data (a server restart)."""
        assert self.current is not None and self.name is not None
        extra = {k: v for k, v in self.current.env.items() if k in ("PATCHWIRE_AUTH_TOKEN", "DATABASE_URL")}
        return self.start(self.name, extra, data_dir=self.current.data_dir)

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self.current, self.name = None, None, None


@pytest.fixture(scope="package")  # torn down after the e2e tests: the rest of the suite needs no running event loop
def servers() -> Iterator[Servers]:
    pool = Servers()
    try:
        yield pool
    finally:
        pool.close()
        for path in pool.made_dirs:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(servers: Servers) -> Server:
    return servers.get("default")


@pytest.fixture
def gated_server(servers: Servers) -> Server:
    return servers.get("gated", {"PATCHWIRE_AUTH_TOKEN": TOKEN})


@pytest.fixture(scope="package")  # torn down after the e2e tests: the rest of the suite needs no running event loop
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails the test on any uncaught JavaScript error."""
    tab = context.new_page()
    errors: list[Any] = []
    tab.on("pageerror", lambda error: errors.append(error))
    yield tab
    assert not errors, f"uncaught errors in the page: {errors}"
