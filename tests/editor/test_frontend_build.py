"""The kept front-end build: its key follows what the bundler reads, builds are kept whole, starts take turns.

(tests/e2e/test_frontend_reuse.py starts real servers: a second start reuses, a changed asset rebuilds.)
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from editor import frontend_build, single_port
from editor.frontend_build import build_key, build_lock, keep_build, kept_build

TOOLS = {"reflex": "0.10.1", "bun": "1.4.4", "node": "20.20.2"}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def web(tmp_path: Path) -> Path:
    """A compiled `.web` tree in small: sources, copied assets, packages, and output that is no input."""
    web = tmp_path / ".web"
    for name, text in {"app/routes/index.jsx": "export default 1", "public/flow_canvas.jsx": "canvas",
                       "env.json": '{"EVENT": "ws://localhost/_event"}', "package.json": "{}", "bun.lock": "v1",
                       "node_modules/react/package.json": '{"version": "19.3.1"}',
                       "node_modules/react/index.js": "code", "node_modules/@xyflow/react/package.json": "{}",
                       "build/client/index.html": "old output", "reflex.json": '{"last_reflex_run_datetime": 1}',
                       ".react-router/types/x.ts": "generated", "nocompile": ""}.items():
        write(web / name, text)
    return web


def test_the_key_ignores_the_output_the_run_time_and_unrelated_env(web: Path) -> None:
    key = build_key(web, TOOLS, {"PORT": "3000"})
    write(web / "build/client/index.html", "new output")
    write(web / "builds/abc/client/index.html", "a kept build")
    write(web / "reflex.json", '{"last_reflex_run_datetime": 2}')
    write(web / "node_modules/react/index.js", "same version, other bytes")
    write(web / ".react-router/types/y.ts", "generated")
    write(web / frontend_build.LOCK, "")
    assert build_key(web, TOOLS, {"PORT": "4000", "PATCHWIRE_AUTH_TOKEN": "t" * 32}) == key


@pytest.mark.parametrize("change", [
    "a page", "an asset", "a new asset", "env.json", "bun.lock", "an installed package", "a scoped package",
    "the Reflex version", "the bun version", "a VITE_ variable", "NODE_ENV"])
def test_the_key_changes_with_each_input(web: Path, change: str) -> None:
    tools, env = dict(TOOLS), {"PORT": "3000"}
    key = build_key(web, tools, env)
    edits = {"a page": "app/routes/index.jsx", "an asset": "public/flow_canvas.jsx",
             "a new asset": "public/new.css", "env.json": "env.json", "bun.lock": "bun.lock",
             "an installed package": "node_modules/react/package.json",
             "a scoped package": "node_modules/@xyflow/react/package.json"}
    if change in edits:
        write(web / edits[change], "changed")
    elif change.endswith("version"):
        tools[change.split()[1].lower()] = "9.9.9"
    else:
        env["VITE_API" if change.startswith("a VITE") else "NODE_ENV"] = "x"
    assert build_key(web, tools, env) != key


def test_a_finished_build_is_kept_under_its_key_and_found_again(web: Path) -> None:
    write(web / "build/client/index.html", "<html>")
    kept = keep_build(web, "k1", {"reflex": "0.10.1"})
    assert kept == web / "builds" / "k1" and not (web / "build").exists()
    assert (kept / "client/index.html").read_text() == "<html>"
    assert json.loads((kept / frontend_build.STAMP).read_text()) == {"key": "k1", "reflex": "0.10.1"}
    assert kept_build(web, "k1") == kept
    assert kept_build(web, "k2") is None
    write(web / "builds/k3/client/index.html", "copied without its stamp")
    assert kept_build(web, "k3") is None


def test_an_unfinished_build_is_not_kept(web: Path) -> None:
    (web / "build/client/index.html").unlink()
    with pytest.raises(RuntimeError, match=r"has no client/index.html: the build did not finish"):
        keep_build(web, "k1", {})
    assert not (web / "builds").exists()


def test_only_the_newest_builds_are_kept(web: Path) -> None:
    assert frontend_build.KEEP == 4
    for n in range(4):
        write(web / "build/client/index.html", f"build {n}")
        os.utime(keep_build(web, f"k{n}", {}) / frontend_build.STAMP, (1000 + n, 1000 + n))
    frontend_build.mark_used(web / "builds/k0")  # reused just now: the oldest is not k0 any more but k1
    write(web / "build/client/index.html", "one more")
    keep_build(web, "k4", {})
    assert {p.name for p in (web / "builds").iterdir()} == {"k4", "k0", "k3", "k2"}


def test_starts_take_turns_on_the_build_lock(web: Path) -> None:
    def try_lock() -> bool:
        with (web / frontend_build.LOCK).open("a") as other:  # another start: its own open file
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    with build_lock(web):
        assert not try_lock()
    assert try_lock()


# --- one build for every port ------------------------------------------------------------------------
def test_env_json_leaves_the_port_to_the_page() -> None:
    env = {"EVENT": "ws://localhost:3000/_event", "PING": "http://localhost:3000/ping",
           "UPLOAD": "https://backend.example:8443/_upload", "TRANSPORT": "websocket", "TEST_MODE": False}
    assert single_port.portless_env(env) == {
        "EVENT": "ws://localhost/_event", "PING": "http://localhost/ping",
        "UPLOAD": "https://backend.example:8443/_upload", "TRANSPORT": "websocket", "TEST_MODE": False,
        "SAME_ORIGIN_PORT": True}


def test_reflex_state_js_takes_the_page_port_once_patched() -> None:
    from reflex_base import constants

    template = (Path(constants.Templates.Dirs.WEB_TEMPLATE) / single_port.STATE_JS).read_text()
    patched = single_port.patch_backend_url(template)
    assert patched.count("if (env.SAME_ORIGIN_PORT) endpoint.port = window.location.port;") == 1
    assert single_port.patch_backend_url(patched) == patched  # every start patches it again: no-op
    with pytest.raises(RuntimeError, match=r"no longer sets `endpoint.hostname = frontend_hostname;` once"):
        single_port.patch_backend_url(template.replace("endpoint.hostname = frontend_hostname;", ""))
