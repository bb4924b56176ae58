"""Comparing two runs node by node: their outputs side by side, a line diff for text and a JSON diff (path by
path) for structures. Pure functions of stored node records' `{status, outputs}`; no Reflex here."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any, TypedDict

from runtime.text import shorten

__all__ = ["DiffLine", "PortDiff", "NodeDiff", "text_diff", "json_diff", "compare_nodes", "differing_nodes"]

MAX_LINES = 200  # a diff longer than this is cut (the values stay readable side by side)
MAX_TEXT = 4000


class DiffLine(TypedDict):
    sign: str  # "+" added, "-" removed, "~" changed, " " context, "@" a hunk header
    text: str


class PortDiff(TypedDict):
    port: str
    kind: str  # text | json
    same: bool
    a: str
    b: str
    lines: list[DiffLine]


class NodeDiff(TypedDict):
    node: str
    same: bool
    status_a: str
    status_b: str
    ports: list[PortDiff]


def _pretty(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False,
                                                           default=repr)
    return shorten(text, MAX_TEXT, "…")


def text_diff(a: str, b: str) -> list[DiffLine]:
    """A unified line diff of two strings (no file headers)."""
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2))[2:]
    return [DiffLine(sign=line[:1] if line[:1] in "+- @" else " ", text=line[1:] if line[:1] in "+- " else line)
            for line in lines[:MAX_LINES]]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    return shorten(text, 160, "…")


def json_diff(a: Any, b: Any, path: str = "$") -> list[DiffLine]:
    """Every path where two JSON values differ: keys added or removed, list items, changed leaves."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[DiffLine] = []
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}"
            if key not in a:
                out.append(DiffLine(sign="+", text=f"{where}: {_short(b[key])}"))
            elif key not in b:
                out.append(DiffLine(sign="-", text=f"{where}: {_short(a[key])}"))
            else:
                out += json_diff(a[key], b[key], where)
        return out[:MAX_LINES]
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            where = f"{path}[{i}]"
            if i >= len(a):
                out.append(DiffLine(sign="+", text=f"{where}: {_short(b[i])}"))
            elif i >= len(b):
                out.append(DiffLine(sign="-", text=f"{where}: {_short(a[i])}"))
            else:
                out += json_diff(a[i], b[i], where)
        return out[:MAX_LINES]
    if a == b and type(a) is type(b):
        return []
    return [DiffLine(sign="~", text=f"{path}: {_short(a)} → {_short(b)}")]


def _port(port: str, a: Any, b: Any) -> PortDiff:
    if isinstance(a, str) and isinstance(b, str):
        return PortDiff(port=port, kind="text", same=a == b, a=_pretty(a), b=_pretty(b),
                        lines=[] if a == b else text_diff(a, b))
    lines = json_diff(a, b)
    return PortDiff(port=port, kind="json", same=not lines, a=_pretty(a), b=_pretty(b), lines=lines)


def _outputs(record: Mapping[str, Any] | None) -> dict[str, Any]:
    outputs = (record or {}).get("outputs")
    return dict(outputs) if isinstance(outputs, Mapping) else {}


def compare_nodes(a: Mapping[str, Mapping[str, Any]], b: Mapping[str, Mapping[str, Any]],
                  order: list[str] | None = None) -> list[NodeDiff]:
    """Per node (of either run, in `order` first): its status and outputs in run A and run B, and their diff.

    `a`, `b`: node id -> `{"status", "outputs"}`. A node only one run has differs (the other side is empty)."""
    ids = list(dict.fromkeys([*(order or []), *a, *b]))
    out: list[NodeDiff] = []
    for node in ids:
        if node not in a and node not in b:
            continue
        ra, rb = a.get(node), b.get(node)
        oa, ob = _outputs(ra), _outputs(rb)
        ports = [_port(p, oa.get(p), ob.get(p)) if p in oa and p in ob else
                 PortDiff(port=p, kind="json", same=False, a=_pretty(oa[p]) if p in oa else "(no value)",
                          b=_pretty(ob[p]) if p in ob else "(no value)",
                          lines=[DiffLine(sign="-" if p in oa else "+", text=f"{p}: only in run {'A' if p in oa else 'B'}")])
                 for p in dict.fromkeys([*oa, *ob])]
        status_a, status_b = str((ra or {}).get("status", "absent")), str((rb or {}).get("status", "absent"))
        out.append(NodeDiff(node=node, same=status_a == status_b and all(p["same"] for p in ports),
                            status_a=status_a, status_b=status_b, ports=ports))
    return out


def differing_nodes(diffs: list[NodeDiff]) -> dict[str, str]:
    """Node id -> "differs" for every node whose outputs (or status) differ: what the canvas outlines."""
    return {d["node"]: "differs" for d in diffs if not d["same"]}
