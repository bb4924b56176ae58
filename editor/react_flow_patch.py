"""A patch to React Flow's node and edge wrappers, pinned to one version, applied to `.web/node_modules` before
the bundler runs (editor/launch.py).

Every mounted node and edge subscribed to the whole store: a node one selector, an edge three (its edge, the
default edge options, and its position: the handle lookup, `getEdgePosition`, z-index, a new object and a
shallow compare). During a drag the store updates once a move, so with 1,000 nodes and 1,300 edges in view
each move ran ~5,000 selectors through as many React subscriptions, for one node and its few edges that
changed.

The patch gives each store one listener (keyed by the store's own `subscribe`: `useStoreApi()` hands each
component a wrapper object of its own, and a registry keyed by that object had been one listener per wrapper).
An update of the nodes alone, as each move of a drag is, checks only the nodes it gave React Flow new objects
for and the edges at them; any other update checks every mounted node and edge with a few identity compares
(a node: its internal node, which React Flow replaces whenever the node changes, and whether it is a parent; an
edge: its edge object, the default edge options, both its nodes, the position and z React Flow may set on them
in place, and the settings its position depends on), and wakes only those that changed. A woken edge
recomputes its position as before, and re-renders only when the result differs. The minimap's nodes (one
selector each, shown while part of the graph is out of view) read their boxes through slots too. Upstream's fix is open
(xyflow/xyflow#5828 and #5829, in the stack #5828-#5832): drop this module once a release has it.

The node, edge and minimap lists render their wrappers in keyed chunks of 32 (an id stays in its chunk while it is
listed; ids new to the list go to the last chunk): React re-renders a woken wrapper by walking down to it and
cloning or checking every sibling of each fiber on the way, and with 1,000 nodes or 1,300 edges as siblings of
one another that walk was a third of a move's JavaScript. The chunks keep the list's order until ids leave and
come back (a pan with `onlyRenderVisibleElements`), which can change which of two overlapping nodes of the same
z-index is on top.

Another version than `PINNED` installed (the pin in editor/components/flow/canvas.py moved) runs
unpatched, with a warning; tests/editor/test_react_flow_patch.py fails until the patch is re-derived.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from .react_flow_patch_js import EDGE_SLOT as _EDGE_SLOT
from .react_flow_patch_js import MINIMAP_SLOT as _MINIMAP_SLOT
from .react_flow_patch_js import OLD_EDGE_POSITION as _OLD_EDGE_POSITION
from .react_flow_patch_js import OLD_MINIMAP_NODE as _OLD_MINIMAP_NODE
from .react_flow_patch_js import SLOTS as _SLOTS

__all__ = ["PINNED", "MARKS", "apply", "patch_id", "patched_text"]

PINNED = "12.12.1"
PACKAGE = Path("node_modules/@xyflow/react")
FILE = PACKAGE / "dist/esm/index.js"  # what the browser build imports (the package's `browser` export)
MARKS = ("pwSlots", "pwSourceAt")  # property names: in the patched file and in the minified bundle

# (what 12.12.1 has, what it becomes): each must occur exactly once.
EDITS: list[tuple[str, str]] = [
    ("import { createContext, useContext, useMemo, forwardRef, useEffect, useRef, useState, useLayoutEffect, "
     "useCallback, memo } from 'react';",
     "import { createContext, useContext, useMemo, forwardRef, useEffect, useRef, useState, useLayoutEffect, "
     "useCallback, memo, useSyncExternalStore } from 'react';"),
    ("function NodeWrapper({", _SLOTS + "function NodeWrapper({"),
    ("""\
    const { node, internals, isParent } = useStore((s) => {
        const node = s.nodeLookup.get(id);
        const isParent = s.parentLookup.has(id);
        return {
            node,
            internals: node.internals,
            isParent,
        };
    }, shallow);
""", """\
    const { node, internals, isParent } = usePwNode(useStoreApi(), id);
"""),
    ("function EdgeWrapper({", _EDGE_SLOT + "function EdgeWrapper({"),
    ("""\
    let edge = useStore((s) => s.edgeLookup.get(id));
    const defaultEdgeOptions = useStore((s) => s.defaultEdgeOptions);
""", """\
    const pwEdge = usePwEdge(useStoreApi(), id, onError);
    let edge = pwEdge.edge;
    const defaultEdgeOptions = pwEdge.defaultEdgeOptions;
"""),
    (_OLD_EDGE_POSITION, """\
    const { zIndex = edge.zIndex, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, } = pwEdge.position;
"""),
    ("""\
    const nodeIds = useVisibleNodeIds(props.onlyRenderVisibleElements);
    const resizeObserver = useResizeObserver();
    return (jsx("div", { className: "react-flow__nodes", style: containerStyle, children: nodeIds.map((nodeId) => {
""", """\
    const nodeIds = useVisibleNodeIds(props.onlyRenderVisibleElements);
    const pwNodeChunks = usePwChunks(nodeIds);
    const resizeObserver = useResizeObserver();
    return (jsx("div", { className: "react-flow__nodes", style: containerStyle, children: pwChunked(pwNodeChunks, (nodeId) => {
"""),
    ("""\
    const edgeIds = useVisibleEdgeIds(onlyRenderVisibleElements);
    return (jsxs("div", { className: "react-flow__edges", children: [jsx(MarkerDefinitions$1, { defaultColor: defaultMarkerColor, rfId: rfId }), edgeIds.map((id) => {
""", """\
    const edgeIds = useVisibleEdgeIds(onlyRenderVisibleElements);
    const pwEdgeChunks = usePwChunks(edgeIds);
    return (jsxs("div", { className: "react-flow__edges", children: [jsx(MarkerDefinitions$1, { defaultColor: defaultMarkerColor, rfId: rfId }), pwChunked(pwEdgeChunks, (id) => {
"""),
    ("function NodeComponentWrapperInner({", _MINIMAP_SLOT + "function NodeComponentWrapperInner({"),
    (_OLD_MINIMAP_NODE, """\
    const { node, x, y, width, height } = usePwMiniMapNode(useStoreApi(), id);
"""),
    ("    return (jsx(Fragment, { children: nodeIds.map((nodeId) => (\n",
     "    return (jsx(Fragment, { children: pwChunked(usePwChunks(nodeIds), (nodeId) => (\n"),
]


def patch_id() -> str:
    """Names this patch in the front-end build key: a changed patch is a changed build."""
    return "wrapper-slots-" + hashlib.sha256(json.dumps(EDITS).encode()).hexdigest()[:12]


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
        say(f"React Flow {version} is installed; the store patch is for {PINNED}: the canvas runs unpatched")
        return f"unpatched-{version}"
    path = web_dir / FILE
    original = path.with_name(path.name + ".patchwire-orig")
    if not original.exists():
        text = path.read_text()
        if any(mark in text for mark in MARKS):
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
