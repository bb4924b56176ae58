"""What the browser is sent: React Flow nodes/edges, issues by node, the type compatibility table, the palette.

Pure functions of a spec and a registry; no Reflex here.
"""

from __future__ import annotations

import functools
import zlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypedDict

from runtime import Issue, PipelineSpec, Registry, is_assignable, type_label
from runtime.component import port_infos
from runtime.validation import ERROR_PORT, ERROR_PORT_TYPE

from .graph import NodePorts, flow_scope, node_ports, positions

__all__ = ["flow_nodes", "flow_positions", "flow_edges", "component_meta", "issues_by_node", "issue_rows",
           "compat_table", "palette_groups", "category_color", "port_types", "load_problems"]

_CATEGORY_COLORS = {
    "Inputs & outputs": "#64748b", "Models": "#7c3aed", "Retrieval": "#0d9488", "Text": "#d97706",
    "Logic": "#0284c7", "Scoring": "#e11d48", "Actions": "#ea580c", "Utility": "#4d7c0f", "Testing": "#6b7280",
}
_HUES = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#65a30d", "#c026d3", "#0d9488",
         "#ea580c", "#4f46e5", "#be123c"]


def _pick(text: str, colors: list[str]) -> str:
    return colors[zlib.crc32(text.encode()) % len(colors)]


def category_color(category: str) -> str:
    return _CATEGORY_COLORS.get(category) or _pick(category, _HUES)


# The wire format is compact on purpose: Reflex re-sends a changed var whole, and at 300 nodes every
# byte per node is 300 bytes per edit. Positions live in their own var (a move re-sends only them),
# component titles/colours/descriptions in another (sent once), port colours are computed in the browser.

def flow_nodes(spec: PipelineSpec, registry: Registry, ports: dict[str, NodePorts | None] | None = None
               ) -> list[dict[str, Any]]:
    """One entry per node: component, label and ports (handle id = port name; the `error` output is implied).

    `in`: [[name, type label, required]], `out`: [[name, type label]].
    """
    if ports is None:
        scope = flow_scope(spec, registry)
        ports = {n.id: node_ports(n, registry, scope) for n in spec.nodes}
    result = []
    for node in spec.nodes:
        resolved = ports.get(node.id)
        entry: dict[str, Any] = {"id": node.id, "c": f"{node.component}@{node.version}"}
        if node.label:
            entry["label"] = node.label
        if resolved is None:
            entry["missing"] = True
            entry["in"], entry["out"] = [], []
        else:
            entry["in"] = [[p.name, p.type_label, 1 if p.required else 0] for p in resolved.inputs.values()]
            entry["out"] = [[p.name, p.type_label] for p in resolved.outputs.values() if p.name != ERROR_PORT]
        result.append(entry)
    return result


def flow_positions(spec: PipelineSpec) -> dict[str, list[float]]:
    return {node_id: [x, y] for node_id, (x, y) in positions(spec).items()}


def component_meta(spec: PipelineSpec, registry: Registry) -> dict[str, dict[str, Any]]:
    """Title, category colour, description and port descriptions of the components the spec uses."""
    meta: dict[str, dict[str, Any]] = {}
    for node in spec.nodes:
        key = f"{node.component}@{node.version}"
        if key in meta:
            continue
        info = registry.get(node.component, node.version)
        if info is None:
            meta[key] = {"title": node.component, "category": "Not installed", "color": "#b91c1c",
                         "description": f"`{node.component}` v{node.version} is not installed.", "ports": {}}
            continue
        docs = {p.name: p.description for p in [*port_infos(info.inputs_model), *port_infos(info.outputs_model)]
                if p.description}
        meta[key] = {"title": info.title, "category": info.category, "color": category_color(info.category),
                     "description": (info.description.splitlines() or [""])[0], "ports": docs}
    return meta


def flow_edges(spec: PipelineSpec, ports: dict[str, NodePorts | None], issues: Iterable[Issue] = ()
               ) -> list[list[Any]]:
    """[source, source port, target, target port, type label, invalid (0/1)] per wire."""
    bad_targets = {(i.node_id, i.port) for i in issues
                   if i.code in ("type_mismatch", "multiple_edges", "missing_port", "missing_node")}
    result = []
    for edge in spec.edges:
        source = ports.get(edge.source.node)
        out = source.outputs.get(edge.source.port) if source else None
        invalid = (edge.target.node, edge.target.port) in bad_targets or out is None
        result.append([edge.source.node, edge.source.port, edge.target.node, edge.target.port,
                       out.type_label if out else "?", 1 if invalid else 0])
    return result


def issues_by_node(issues: Iterable[Issue]) -> dict[str, list[dict[str, Any]]]:
    """Issues pinned to nodes (and ports): the canvas badges."""
    pinned: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue in issues:
        if issue.node_id:
            pinned[issue.node_id].append({"port": issue.port or "", "message": issue.message,
                                          "severity": issue.severity, "code": issue.code})
    return dict(pinned)


class IssueRow(TypedDict):
    """One row of the issues panel (a typed var: the panel reads its fields without casts)."""

    index: int
    node_id: str  # "" for an issue of the whole pipeline
    port: str
    message: str
    hint: str
    severity: str  # error | warning
    code: str


def issue_rows(issues: Iterable[Issue]) -> list[IssueRow]:
    """Rows of the issues panel, errors first."""
    ordered = sorted(issues, key=lambda i: i.severity != "error")
    return [IssueRow(index=n, node_id=i.node_id or "", port=i.port or "", message=i.message, hint=i.hint or "",
                     severity=i.severity, code=i.code) for n, i in enumerate(ordered)]


def port_types(registry: Registry, ports: Iterable[NodePorts | None] = ()) -> dict[str, list[Any]]:
    """Every type label in play (the registry's default ports plus the spec's nodes) -> its real types."""
    labels: dict[str, list[Any]] = {label: list(types) for label, types in _registry_types(registry).items()}
    for resolved in ports:
        if resolved is None:
            continue
        for p in [*resolved.inputs.values(), *resolved.outputs.values()]:
            known = labels.setdefault(p.type_label, [])
            if not any(t is p.type or t == p.type for t in known):
                known.append(p.type)
    return labels


@functools.lru_cache(maxsize=8)
def _registry_types(registry: Registry) -> dict[str, tuple[Any, ...]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for info in registry:
        params = info.default_params()
        try:
            ins, outs = info.ports(params) if params is not None else (info.inputs_model, info.outputs_model)
        except Exception:  # noqa: BLE001 - a broken component's port logic; validation reports it
            ins, outs = info.inputs_model, info.outputs_model
        for p in [*port_infos(ins), *port_infos(outs)]:
            if not any(t is p.type or t == p.type for t in found[p.type_label]):
                found[p.type_label].append(p.type)
    found[type_label(ERROR_PORT_TYPE)].append(ERROR_PORT_TYPE)
    return {label: tuple(types) for label, types in found.items()}


def compat_table(labels: dict[str, list[Any]]) -> dict[str, list[str]]:
    """For each output type label, the input type labels it may feed (`is_assignable`, the runtime's rule).

    When two different types share a label, a pair counts as compatible only if every combination is:
    the browser may then refuse a wire the server would take, never the reverse.
    """
    return {
        source: sorted(target for target, t_types in labels.items()
                       if all(is_assignable(s, t) for s in s_types for t in t_types))
        for source, s_types in labels.items()
    }


def palette_groups(registry: Registry, query: str = "") -> list[dict[str, Any]]:
    """Components grouped by category (filtered by `query`), then the plugins that failed to load."""
    q = query.strip().lower()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for info in registry:
        if info.version != max(registry.versions(info.id)):
            continue
        haystack = f"{info.id} {info.title} {info.category} {info.description}".lower()
        if q and not all(word in haystack for word in q.split()):
            continue
        groups[info.category].append({
            "id": info.id, "title": info.title, "version": info.version,
            "description": (info.description.splitlines() or [""])[0], "color": category_color(info.category),
        })
    result = [{"category": cat, "color": category_color(cat), "items": sorted(items, key=lambda i: i["title"])}
              for cat, items in sorted(groups.items())]
    return result


def load_problems(registry: Registry) -> list[dict[str, str]]:
    """Plugins that failed to load: shown greyed out at the bottom of the palette, with their error."""
    return [{"source": p.source, "message": p.message, "index": str(n)} for n, p in enumerate(registry.problems)]
