"""Which stored breakpoints a rename, a delete, a group or an ungroup moves or drops. Pure functions; no Reflex here.

A breakpoint is stored under its node's path (`shout`, `m/work`, `nested/m2/work`: `editor.subflow_breakpoints`),
so renaming or deleting a node changes, or ends, the path of every breakpoint through it: on the node itself and,
for a flow node, on every node inside it. A subflow is one definition (`spec.subflows[name]`) that several flow
nodes may run, so an edit inside the subflow `each` reaches the breakpoints under each of them (`m/work` and
`s/work` when both `m` and `s` run `each`). Each segment of a path is resolved against the spec before the edit.

An edit moves paths by prefix, at the level of the subflow it was made in: a rename `{a: b}`, a group `{x: g/x}`
(`g` the new flow node), an ungroup `{g/x: x}`; undoing it moves them back (`inverse`). A path that named a node
before an edit and names none after it (a deleted node, the ungrouped flow node, a node an undo takes away) ends.
"""

from __future__ import annotations

from collections.abc import Iterable

from runtime import PipelineSpec
from runtime.flow import FLOW_IDS

from .grouping import IO
from .subflow_scope import view

__all__ = ["levels_of", "resolves", "moved_paths", "followed_paths", "grouped_moves", "ungrouped_moves", "inverse",
           "deleted_nodes"]


def levels_of(top: PipelineSpec, stored: str) -> list[str | None]:
    """For each segment of `stored`, the subflow whose node it names ("": the pipeline's own; None: an item index,
    or a segment past a node that is no flow node of this spec)."""
    levels: list[str | None] = []
    level: str | None = ""
    for segment in stored.split("/"):
        if segment.isdigit() or level is None:
            levels.append(None)
            continue
        levels.append(level)
        spec = top if not level else top.subflows.get(level)
        node = spec.node(segment) if spec is not None else None
        subflow = node.params.get("subflow") if node is not None and node.component in FLOW_IDS else None
        level = subflow if isinstance(subflow, str) and subflow in top.subflows else None
    return levels


def resolves(top: PipelineSpec, stored: str) -> bool:
    """Whether `stored` names a node of `top`: each segment a node at its level (an index only after a flow node)."""
    segments = stored.split("/")
    for segment, level in zip(segments, levels_of(top, stored), strict=True):
        if segment.isdigit():
            continue
        spec = None if level is None else top if not level else top.subflows.get(level)
        if spec is None or spec.node(segment) is None:
            return False
    return not segments[-1].isdigit()


def moved_paths(ids: Iterable[str], before: PipelineSpec, scope: str, moves: dict[str, str]) -> dict[str, str]:
    """{stored path: its new path} after an edit of `scope` that moved each prefix of `moves` to its value: a prefix
    starts at a node of `scope` (`a`, or `g/x` for the node `x` inside the flow node `g`, an item index allowed)."""
    keys = sorted(((key, key.split("/")) for key in moves), key=lambda k: -len(k[1]))
    moved: dict[str, str] = {}
    for stored in ids:
        segments, levels = stored.split("/"), levels_of(before, stored)
        changed, i = [], 0
        while i < len(segments):
            match = _prefix_at(segments, i, keys) if levels[i] == scope else None
            if match is None:
                changed.append(segments[i])
                i += 1
            else:
                changed.append(moves[match[0]])
                i = match[1]
        if changed != segments:
            moved[stored] = "/".join(changed)
    return moved


def _prefix_at(segments: list[str], start: int, keys: list[tuple[str, list[str]]]) -> tuple[str, int] | None:
    """The first of `keys` that `segments` has at `start` (skipping an item index after a flow node), and where it
    ends."""
    for key, parts in keys:
        i = start
        for depth, part in enumerate(parts):
            if depth and i < len(segments) and segments[i].isdigit():
                i += 1
            if i >= len(segments) or segments[i] != part:
                break
            i += 1
        else:
            return key, i
    return None


def followed_paths(ids: Iterable[str], before: PipelineSpec, after: PipelineSpec, scope: str,
                   moves: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(moved, ended): the paths the edit from `before` to `after` moves (`moves`, see `moved_paths`), and those that
    named a node before it and name none after it. A path that named nothing before stays as it is."""
    ids = list(ids)
    moved = moved_paths(ids, before, scope, moves) if moves else {}
    ended = [stored for stored in ids if resolves(before, stored) and not resolves(after, moved.get(stored, stored))]
    return {old: new for old, new in moved.items() if old not in ended}, ended


def grouped_moves(shown: PipelineSpec, node_ids: Iterable[str], node_id: str) -> dict[str, str]:
    """The prefixes a group of `node_ids` (nodes of `shown`, the level grouped) into the flow node `node_id` moves."""
    return {n: f"{node_id}/{n}" for n in node_ids if shown.node(n) is not None}


def ungrouped_moves(shown: PipelineSpec, node_id: str, brought: list[str]) -> dict[str, str]:
    """The prefixes an ungroup of the flow node `node_id` of `shown` (before it) moves: each inner node to the id it
    got back outside, `brought` (`grouping.ungroup`'s, in the subflow's order)."""
    node = shown.node(node_id)
    sub = shown.subflows.get(str(node.params.get("subflow"))) if node is not None else None
    inner = [n.id for n in sub.nodes if n.component not in IO] if sub is not None else []
    return {f"{node_id}/{old}": new for old, new in zip(inner, brought, strict=False)}


def inverse(moves: dict[str, str]) -> dict[str, str]:
    """The moves that undo `moves`."""
    return {new: old for old, new in moves.items()}


def deleted_nodes(before: PipelineSpec, after: PipelineSpec, scope: str, candidates: Iterable[str]) -> set[str]:
    """Those of `candidates` that the edit from `before` to `after` removed from `scope`."""
    was, now = view(before, scope), view(after, scope)
    assert was is not None and now is not None
    return {n for n in candidates if was.node(n) is not None and now.node(n) is None}
