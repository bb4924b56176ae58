"""The installed packages are exactly the hash-pinned lock files, generated from pyproject.toml's current
dependencies, with no release known to be malicious and no unexpected start-up hooks (`.pth` files)."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
EXPECTED_PTH = {"distutils-precedence.pth"}  # setuptools' own; plus Patchwire's editable install below


def pins(lock: Path) -> dict[str, str]:
    """name -> version for every pin of `lock` whose environment marker holds here."""
    found = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match and (match.group(3) is None or Marker(match.group(3)).evaluate()):
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def installed() -> dict[str, str]:
    """The distributions in this virtualenv's own site-packages (not the base interpreter's)."""
    site = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions(path=site)}


def test_the_lock_was_generated_from_the_current_dependencies():
    digest = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock_digest.py")], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert f"# dependencies-sha256: {digest}" in (ROOT / "requirements.lock").read_text(), (
        "pyproject.toml's dependencies changed: run ./scripts/lock.sh and commit requirements.lock")


def test_every_locked_package_is_installed_at_its_locked_version():
    have = installed()
    wanted = {**pins(ROOT / "requirements.lock"), **pins(ROOT / "requirements-models.lock"),
              **pins(ROOT / "requirements-pip.lock")}
    assert len(wanted) > 100 and "pip" in wanted
    wrong = {name: (version, have.get(name)) for name, version in wanted.items() if have.get(name) != version}
    assert wrong == {}, "installed packages differ from the lock (locked, installed): run `make setup`"


def test_nothing_is_installed_that_the_lock_does_not_name():
    wanted = {**pins(ROOT / "requirements.lock"), **pins(ROOT / "requirements-models.lock")}
    extra = set(installed()) - set(wanted) - {"patchwire", "pip", "setuptools", "wheel"}
    assert extra == set(), f"installed outside the lock files: {sorted(extra)}"


def test_no_release_known_to_be_malicious_is_locked_or_installed():
    bad = set(_pairs(ROOT / "scripts" / "known-malicious.txt"))
    assert ("litellm", "1.82.8") in bad
    for source in (installed(), pins(ROOT / "requirements.lock")):
        found = {(name, version) for name, version in source.items()} & bad
        assert found == set(), f"known-malicious releases: {sorted(found)}"


def _pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.strip().split("==")
            pairs.append((canonicalize_name(name), version))
    return pairs


def test_no_unexpected_startup_hooks_in_site_packages():
    site = Path(sysconfig.get_paths()["purelib"])
    hooks = {p.name for p in site.glob("*.pth")}
    unexpected = {h for h in hooks - EXPECTED_PTH if not h.startswith("__editable__.patchwire-")}
    assert unexpected == set(), f"`.pth` files run code at every Python start-up: {sorted(unexpected)}"
