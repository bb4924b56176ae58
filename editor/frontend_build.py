"""Keep the editor's production front-end build and reuse it while nothing that goes into it changed.

`reflex run --env prod` runs the bundler (`react-router build`: vite plus a prerender of every page) on
every start. The bundler reads only the `.web` tree that Reflex's compile writes (pages, components, the
copied `assets/`, `env.json`, `package.json`, `bun.lock`, configs) plus its own tools and a few env vars,
so a build is keyed by a hash of exactly those: the compile still runs on each start and a change to a
page, asset, theme, dependency or the Reflex version changes the compiled tree, hence the key.

Builds are never changed in place: each one is made in `.web/build`, stamped, then renamed to
`.web/builds/<key>/`, and a server serves the directory it started with, so a later start that builds
something else never pulls files from under a running server. Reflex (no import here) does the building.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["BUILDS", "STAMP", "build_key", "build_lock", "keep_build", "kept_build", "mark_used"]

BUILDS = "builds"
STAMP = "patchwire-build.json"
KEEP = 4  # the builds kept: one per recent configuration (a running server may still serve an older one)
# In the web directory but not read by the bundler: its output, installed packages (bun.lock stands for
# them), Reflex's run time stamp and the marker a backend start leaves.
LOCK = ".patchwire-build.lock"
NOT_INPUTS = frozenset({"build", BUILDS, "node_modules", ".react-router", "reflex.json", "nocompile", LOCK})
# Env the bundler reads: vite exposes VITE_* to the page, NODE_ENV picks the mode, browserslist the targets.
BUILD_ENV_PREFIXES = ("VITE_", "BROWSERSLIST", "NODE_ENV")


def build_key(web_dir: Path, tools: Mapping[str, str], env: Mapping[str, str]) -> str:
    """A hash of what the bundler reads: the compiled tree, the tool versions and the build env vars."""
    digest = hashlib.sha256()
    for name, value in sorted(tools.items()):
        digest.update(f"tool {name}={value}\n".encode())
    for name, value in sorted(env.items()):
        if name.startswith(BUILD_ENV_PREFIXES):
            digest.update(f"env {name}={value}\n".encode())
    for path in [*_input_files(web_dir), *_installed_manifests(web_dir)]:
        digest.update(f"file {path.relative_to(web_dir).as_posix()} {path.stat().st_size}\n".encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:24]


def _input_files(web_dir: Path) -> list[Path]:
    files: list[Path] = []
    for top in web_dir.iterdir():
        if top.name in NOT_INPUTS:
            continue
        if top.is_dir():
            files.extend(p for p in top.rglob("*") if p.is_file() and "node_modules" not in p.parts)
        elif top.is_file():
            files.append(top)
    return sorted(files)


def _installed_manifests(web_dir: Path) -> list[Path]:
    """`package.json` of each installed package: what is in node_modules, even if it drifted from bun.lock."""
    modules = web_dir / "node_modules"
    return sorted([*modules.glob("*/package.json"), *modules.glob("@*/*/package.json")])


def kept_build(web_dir: Path, key: str) -> Path | None:
    """The finished build for `key`, if one is kept (a build without its stamp is not finished)."""
    build = web_dir / BUILDS / key
    try:
        stamp = json.loads((build / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return build if stamp.get("key") == key and (build / "client" / "index.html").is_file() else None


def keep_build(web_dir: Path, key: str, about: Mapping[str, str]) -> Path:
    """Stamp the fresh build in `web_dir/build` and move it to `builds/<key>` (one rename), then prune."""
    fresh, builds = web_dir / "build", web_dir / BUILDS
    if not (fresh / "client" / "index.html").is_file():
        raise RuntimeError(f"The front-end build in {fresh} has no client/index.html: the build did not finish.")
    (fresh / STAMP).write_text(json.dumps({"key": key, **about}, indent=1))
    builds.mkdir(exist_ok=True)
    target = builds / key
    if target.exists():  # an unfinished leftover (no stamp): kept_build refused it
        shutil.rmtree(target)
    fresh.rename(target)
    _prune(builds, keep=target)
    return target


def _prune(builds: Path, keep: Path) -> None:
    """Delete all but the KEEP newest builds (by when they were built or last reused)."""
    others = sorted((p for p in builds.iterdir() if p.is_dir() and p != keep),
                    key=lambda p: _stamp_time(p), reverse=True)
    for old in others[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def _stamp_time(build: Path) -> float:
    try:
        return (build / STAMP).stat().st_mtime
    except OSError:
        return 0.0


def mark_used(build: Path) -> None:
    """Reused now: pruning deletes the builds used longest ago."""
    with contextlib.suppress(OSError):
        os.utime(build / STAMP)


@contextlib.contextmanager
def build_lock(web_dir: Path) -> Iterator[None]:
    """One start at a time checks, builds, moves or prunes the kept builds of this checkout."""
    web_dir.mkdir(parents=True, exist_ok=True)
    with (web_dir / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
