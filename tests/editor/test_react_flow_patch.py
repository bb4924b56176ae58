"""editor/react_flow_patch.py: applied once to the pinned React Flow, never written into a file bun links to its
cache, and skipped (with a warning) for another version. That the real 12.12.1 file takes it and the browser
runs it is tests/e2e/test_editor_big.py's (the build's bundle carries the patch, and edges follow their nodes).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from editor import react_flow_patch as patch
from editor.components.flow import canvas


def _web_dir(tmp_path: Path, version: str = patch.PINNED) -> Path:
    web = tmp_path / "web"
    (web / patch.FILE).parent.mkdir(parents=True)
    (web / patch.PACKAGE / "package.json").write_text(json.dumps({"name": "@xyflow/react", "version": version}))
    original = "// before\n" + "\n// between\n".join(old for old, _ in patch.EDITS) + "\n// after\n"
    (web / patch.FILE).write_text(original)
    return web


def test_the_patch_is_for_the_version_the_canvas_pins() -> None:
    assert f"@xyflow/react@{patch.PINNED}" == canvas.XYFLOW_PKG, "re-derive editor/react_flow_patch.py for the new pin"


def test_it_patches_once_and_names_itself_for_the_build_key(tmp_path: Path) -> None:
    web = _web_dir(tmp_path)
    label = patch.apply(web)
    text = (web / patch.FILE).read_text()
    assert label == patch.patch_id() and label.startswith("wrapper-slots-")
    assert all(mark in text for mark in patch.MARKS) and "usePwNode(useStoreApi(), id)" in text and "= pwEdge.position;" in text
    assert text.startswith("// before\n") and text.endswith("// after\n")
    assert patch.apply(web) == label and (web / patch.FILE).read_text() == text  # idempotent


def test_a_changed_patch_applies_to_the_original_not_on_top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web = _web_dir(tmp_path)
    installed = (web / patch.FILE).read_text()
    patch.apply(web)
    changed = [*patch.EDITS, ("// after\n", "// after, changed\n")]
    monkeypatch.setattr(patch, "EDITS", changed)
    assert patch.apply(web) == patch.patch_id()  # a new id: a new build
    assert (web / patch.FILE).read_text() == patch.patched_text(installed)
    assert (web / patch.FILE).with_name("index.js.patchwire-orig").read_text() == installed


def test_a_patched_file_without_its_original_is_refused(tmp_path: Path) -> None:
    web = _web_dir(tmp_path)
    (web / patch.FILE).write_text(patch.patched_text((web / patch.FILE).read_text()))
    with pytest.raises(RuntimeError, match="is patched but its original is gone: delete .*node_modules"):
        patch.apply(web)


def test_it_replaces_the_file_and_leaves_a_linked_copy_alone(tmp_path: Path) -> None:
    web = _web_dir(tmp_path)
    cached = tmp_path / "bun-cache-index.js"  # bun installs packages as hard links to its cache
    os.link(web / patch.FILE, cached)
    before = cached.read_text()
    patch.apply(web)
    assert cached.read_text() == before  # the kept original is a new file too
    assert all(mark in (web / patch.FILE).read_text() for mark in patch.MARKS)
    assert not list((web / patch.FILE).parent.glob("*.patchwire-tmp"))


def test_another_version_runs_unpatched_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    web = _web_dir(tmp_path, version="12.13.0")
    before = (web / patch.FILE).read_text()
    assert patch.apply(web) == "unpatched-12.13.0"
    assert (web / patch.FILE).read_text() == before
    assert "React Flow 12.13.0 is installed; the store patch is for 12.12.1" in capsys.readouterr().out


def test_an_edit_that_does_not_apply_once_is_named(tmp_path: Path) -> None:
    olds = [old for old, _ in patch.EDITS]
    with pytest.raises(ValueError, match="edit 2 matches 0 times"):
        patch.patched_text("".join(olds[:1] + olds[2:]))
    with pytest.raises(ValueError, match="edit 3 matches 2 times"):
        patch.patched_text("".join(olds[:3] + olds[2:]))
