"""A small patch to React Flow's edge wrapper, pinned to one version, applied to `.web/node_modules` before
the bundler runs (editor/launch.py).

Every mounted edge re-runs its position selector on every store update: the handle lookup, the edge's
position and z-index, a new object and a shallow compare of it. During a drag the store updates once a
move, so with 1,300 edges in view most of a move's store update was edges that did not move recomputing
where they are. The patch keeps each edge's last result while both its nodes (React Flow makes a new
internal node object whenever a node changes; the position and z it may set in place are compared too) and
the store settings the result depends on are unchanged. Upstream's fix is open (xyflow/xyflow#5829, in the
stack #5828-#5832): drop this module once a release has it.

Another version than `PINNED` installed (the pin in editor/components/flow/canvas.py moved) runs
unpatched, with a warning; tests/editor/test_react_flow_patch.py fails until the patch is re-derived.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["PINNED", "MARK", "apply", "patch_id", "patched_text"]

PINNED = "12.12.1"
PACKAGE = Path("node_modules/@xyflow/react")
FILE = PACKAGE / "dist/esm/index.js"  # what the browser build imports (the package's `browser` export)
MARK = "pwSourceAt"  # a property name: in the patched file and in the minified bundle

_HELPERS = """\
// Patchwire (editor/react_flow_patch.py): an edge's last position, kept while its ends are unchanged.
function pwEnds(store, source, target, result) {
    return { source, target, pwSourceAt: source.internals.positionAbsolute, pwTargetAt: target.internals.positionAbsolute,
        sourceZ: source.internals.z, targetZ: target.internals.z, connectionMode: store.connectionMode,
        elevate: store.elevateEdgesOnSelect, zIndexMode: store.zIndexMode, result };
}
function pwSameEnds(last, store, source, target) {
    return last.source === source && last.target === target
        && last.pwSourceAt === source.internals.positionAbsolute && last.pwTargetAt === target.internals.positionAbsolute
        && last.sourceZ === source.internals.z && last.targetZ === target.internals.z
        && last.connectionMode === store.connectionMode && last.elevate === store.elevateEdgesOnSelect
        && last.zIndexMode === store.zIndexMode;
}
"""

_DEPS = "[edge.source, edge.target, edge.sourceHandle, edge.targetHandle, edge.selected, edge.zIndex, onError]"

# (what 12.12.1 has, what it becomes): each must occur exactly once.
EDITS: list[tuple[str, str]] = [
    ("function EdgeWrapper({", _HELPERS + "function EdgeWrapper({"),
    ("""\
targetPosition, } = useStore(useCallback((store) => {
        const sourceNode = store.nodeLookup.get(edge.source);
        const targetNode = store.nodeLookup.get(edge.target);
        if (!sourceNode || !targetNode) {
""", """\
targetPosition, } = useStore(useMemo(() => {
        let pwLast = null;  // a new selector, and no kept result, whenever the edge itself changes
        return (store) => {
        const sourceNode = store.nodeLookup.get(edge.source);
        const targetNode = store.nodeLookup.get(edge.target);
        if (pwLast !== null && pwSameEnds(pwLast, store, sourceNode, targetNode)) {
            return pwLast.result;
        }
        if (!sourceNode || !targetNode) {
"""),
    (f"""\
        return {{
            ...(edgePosition || nullPosition),
            zIndex,
        }};
    }}, {_DEPS}), shallow);
""", f"""\
        const result = {{
            ...(edgePosition || nullPosition),
            zIndex,
        }};
        pwLast = pwEnds(store, sourceNode, targetNode, result);
        return result;
        }};
    }}, {_DEPS}), shallow);
"""),
]


def patch_id() -> str:
    """Names this patch in the front-end build key: a changed patch is a changed build."""
    return "edge-memo-" + hashlib.sha256(json.dumps(EDITS).encode()).hexdigest()[:12]


def patched_text(text: str) -> str:
    """`text` (the pinned version's file) with the edits; a ValueError names an edit that does not apply once."""
    for number, (old, new) in enumerate(EDITS, 1):
        if text.count(old) != 1:
            raise ValueError(f"React Flow patch edit {number} matches {text.count(old)} times instead of once")
        text = text.replace(old, new)
    return text


def apply(web_dir: Path, say: Callable[[str], None] = print) -> str:
    """Patch the installed React Flow in `web_dir`; what went into the build, for its key. `say` tells the
    user when the installed version runs unpatched.

    The file as installed is kept beside it (`index.js.patchwire-orig`) and each start patches that copy, so
    a changed patch applies to the original, not on top of the patch before it.
    """
    package = json.loads((web_dir / PACKAGE / "package.json").read_text())
    version = package.get("version")
    if version != PINNED:
        say(f"React Flow {version} is installed; the edge patch is for {PINNED}: the canvas runs unpatched")
        return f"unpatched-{version}"
    path = web_dir / FILE
    original = path.with_name(path.name + ".patchwire-orig")
    if not original.exists():
        text = path.read_text()
        if MARK in text:
            raise RuntimeError(f"{path} is patched but its original is gone: delete {web_dir / 'node_modules'} "
                               "and start again (the packages are reinstalled)")
        _write_new(original, text)
    wanted = patched_text(original.read_text())
    if path.read_text() != wanted:
        _write_new(path, wanted)
    return patch_id()


def _write_new(path: Path, text: str) -> None:
    """A new file, not a write into an existing one: bun links installed files to its cache, which other
    checkouts share."""
    fresh = path.with_name(path.name + ".patchwire-tmp")
    fresh.write_text(text)
    os.replace(fresh, path)
