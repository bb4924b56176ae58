"""`graph_diff`: what changed between two pipeline specs, node by node (semantic, not textual)."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from typing import Any

__all__ = ["graph_diff", "spec_sha256", "TEXT_PARAMS"]

# Params shown as a line diff (and any multi-line string).
TEXT_PARAMS = {"template", "prompt", "system_prompt", "criteria", "instructions", "rubric"}


def _nodes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in spec.get("nodes", [])}


def _edges(spec: dict[str, Any]) -> set[str]:
    return {f"{e['source']['node']}.{e['source']['port']} -> {e['target']['node']}.{e['target']['port']}"
            for e in spec.get("edges", [])}


def _param_change(name: str, old: Any, new: Any) -> dict[str, Any]:
    change: dict[str, Any] = {"old": old, "new": new}
    if isinstance(old, str) and isinstance(new, str) and (name in TEXT_PARAMS or "\n" in old or "\n" in new):
        change["diff"] = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "old", "new", lineterm="", n=1))
    return change


def graph_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Nodes added/removed, params changed (old -> new, line diffs for prompts and templates), edges
    added/removed, component id or version changed. Layout is ignored."""
    before, after = _nodes(old), _nodes(new)
    params: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, str]] = {}
    for node_id in sorted(before.keys() & after.keys()):
        a, b = before[node_id], after[node_id]
        old_c, new_c = f"{a['component']} v{a.get('version', 1)}", f"{b['component']} v{b.get('version', 1)}"
        if old_c != new_c:
            components[node_id] = {"old": old_c, "new": new_c}
        pa, pb = a.get("params") or {}, b.get("params") or {}
        changed = {k: _param_change(k, pa.get(k), pb.get(k)) for k in sorted(pa.keys() | pb.keys())
                   if pa.get(k) != pb.get(k)}
        if a.get("policy") != b.get("policy"):
            changed["policy"] = _param_change("policy", a.get("policy"), b.get("policy"))
        if changed:
            params[node_id] = changed
    old_edges, new_edges = _edges(old), _edges(new)
    return {"nodes_added": sorted(after.keys() - before.keys()), "nodes_removed": sorted(before.keys() - after.keys()),
            "params_changed": params, "edges_added": sorted(new_edges - old_edges),
            "edges_removed": sorted(old_edges - new_edges), "components_changed": components}


def spec_sha256(spec: dict[str, Any]) -> str:
    """The content hash of a spec; its editor layout is left out (moving a node is not a new pipeline)."""
    from pydantic import ValidationError

    from ..spec import PipelineSpec

    with contextlib.suppress(ValidationError):  # canonical: defaults filled in however it was written or stored
        spec = PipelineSpec.model_validate(spec).model_dump(mode="json", exclude_none=True)
    body = {k: v for k, v in spec.items() if k != "layout"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
