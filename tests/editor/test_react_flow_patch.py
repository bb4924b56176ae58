"""editor/react_flow_patch.py: applied once to the pinned React Flow, never written into a file bun links to its
cache, and skipped (with a warning) for another version. That the real 12.12.1 file takes it and the browser
runs it is tests/e2e/test_editor_big.py's (the build's bundle carries the patch, and edges follow their nodes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


# The slot registry (patch._SLOTS up to its React hooks) against a zustand-shaped store, in Node: which slots an
# update makes read the store. A read counts and returns the store's value for its key (new value: woken).
WAKES_JS = """
const calls = [];
let state = {nodes: [], parentLookup: new Map(), transform: [0, 0, 1], values: {}};
const listeners = new Set();
const store = {getState: () => state, subscribe: (fn) => { listeners.add(fn); return () => listeners.delete(fn); }};
function set(partial) { const prev = state; state = {...state, ...partial}; listeners.forEach((fn) => fn(state, prev)); }
function slot(name, nodeIds) {
  const api = {getState: store.getState, subscribe: store.subscribe};  // as useStoreApi() gives each component
  const s = pwSlot(api, () => { calls.push(name); return state.values[name]; }, nodeIds);
  s.wakes = 0;
  s.unsubscribe = s.subscribe(() => { s.wakes += 1; });
  return s;
}
const node = (id) => ({id});
set({nodes: ["a", "b", "c"].map(node)});
const a = slot("a", ["a"]), b = slot("b", ["b"]), c = slot("c", ["c"]), ab = slot("ab", ["a", "b"]);
const take = () => calls.splice(0).sort().join(",");
take();
const out = {listenersMounted: listeners.size};
set({nodes: [state.nodes[0], node("b"), state.nodes[2]], values: state.values}); out.moveB = take();
set({nodes: [state.nodes[0], node("b"), state.nodes[2]], nodesInitialized: true}); out.moveBAgain = take();
set({transform: [1, 0, 1]}); out.otherKey = take();
set({nodes: [node("c"), state.nodes[1], state.nodes[0]]}); out.reordered = take();
set({nodes: [...state.nodes, node("d")]}); out.added = take();
state.parentLookup.set("a", new Map([["b", {}]]));
set({nodes: state.nodes.map((n) => n.id === "b" ? node("b") : n)}); out.withParent = take();
state.parentLookup.clear();
ab.nodeIds = ["a", "c"];  // its edge reconnected: the next full check re-indexes it
set({transform: [2, 0, 1]}); take();
set({nodes: state.nodes.map((n) => n.id === "c" ? node("c") : n)}); out.movedNewEnd = take();
set({nodes: state.nodes.map((n) => n.id === "b" ? node("b") : n)}); out.movedOldEnd = take();
set({values: {c: 1}}); out.cWakes = c.wakes; out.aWakes = a.wakes; take();
c.unsubscribe();
set({nodes: state.nodes.map((n) => n.id === "c" ? node("c") : n)}); out.afterUnsubscribe = take();
b.unsubscribe(); a.unsubscribe(); ab.unsubscribe();
out.listeners = listeners.size;
console.log(JSON.stringify(out));
"""


def test_an_update_of_nodes_alone_checks_only_the_slots_at_those_nodes() -> None:
    node = shutil.which("node")
    assert node, "Node.js is installed by scripts/setup.sh (bun comes from the npm registry)"
    registry = patch._SLOTS[:patch._SLOTS.index("function usePwNode(")]
    result = subprocess.run([node, "-e", registry + WAKES_JS], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["moveB"] == "ab,b" and out["moveBAgain"] == "ab,b"  # a drag's move: the node and its edge
    for update in ("otherKey", "reordered", "added", "withParent"):  # anything else checks them all
        assert out[update] == "a,ab,b,c", (update, out[update])
    assert out["movedNewEnd"] == "ab,c" and out["movedOldEnd"] == "b"
    assert out["cWakes"] == 1 and out["aWakes"] == 0  # a slot wakes its wrapper only when its value is new
    assert out["afterUnsubscribe"] == "ab"  # c's wrapper unmounted: never read again (its edge still is)
    assert out["listenersMounted"] == 1 and out["listeners"] == 0  # one store listener while any slot is mounted


# The lists' chunks (patch._SLOTS's usePwChunks) with React's hooks as one component's: which chunk each id is in
# as the list changes.
CHUNKS_JS = """
const ref = {current: null};
const useRef = () => ref, useMemo = (fn) => fn();
const ids = (from, to) => Array.from({length: to - from}, (_, i) => "n" + (from + i));
const shape = (chunks) => chunks.map((c) => [c.key, c.ids[0], c.ids.length]);
const out = {};
out.first = shape(usePwChunks(ids(0, 70)));
out.removed = shape(usePwChunks(ids(0, 70).filter((id) => id !== "n3" && id !== "n40")));
out.added = shape(usePwChunks([...ids(0, 70).filter((id) => id !== "n3"), ...ids(70, 100)]));
out.back = usePwChunks(["n3", ...ids(0, 100)]).map((c) => c.ids.includes("n3") ? c.key : null).filter((k) => k !== null);
out.empty = shape(usePwChunks([]));
console.log(JSON.stringify(out));
"""


def test_the_lists_render_in_chunks_an_id_keeps_while_it_is_listed() -> None:
    node = shutil.which("node")
    assert node, "Node.js is installed by scripts/setup.sh (bun comes from the npm registry)"
    start = patch._SLOTS.index("const PW_CHUNK")
    chunks = patch._SLOTS[start:patch._SLOTS.index("function pwChunked(")]
    result = subprocess.run([node, "-e", chunks + CHUNKS_JS], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["first"] == [[0, "n0", 32], [1, "n32", 32], [2, "n64", 6]]
    assert out["removed"] == [[0, "n0", 31], [1, "n32", 31], [2, "n64", 6]]  # the others stay where they were
    # n40 listed again and 30 ids new to the list: the last chunk fills up, then a new one
    assert out["added"] == [[0, "n0", 31], [1, "n32", 31], [2, "n64", 32], [3, "n95", 5]]
    assert out["back"] == [3]  # an id listed again is new to the list: the last chunk with room
    assert out["empty"] == []
