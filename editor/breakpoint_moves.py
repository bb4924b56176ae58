"""Which stored breakpoints a rename, a delete, a group or an ungroup moves or drops. Pure functions; no Reflex here.

A breakpoint is stored under its node's path (`shout`, `m/work`, `nested/m2/work`: `editor.subflow_breakpoints`),
so renaming or deleting a node changes, or ends, the path of every breakpoint through it: on the node itself and,
for a flow node, on every node inside it. A subflow is one definition (`spec.subflows[name]`) that several flow
nodes may run, so an edit inside the subflow `each` reaches the breakpoints under each of them (`m/work` and
`s/work` when both `m` and `s` run `each`). Each segment of a path is resolved against the spec before the edit.

An edit moves paths by prefix, at the level of the subflow it was made in: a rename `{a: b}`, a group `{x: g/x}`
(`g` the new flow node), an ungroup `{g/x: x}`; undoing it moves them back (`inverse`). A path that named a node
before an edit and names none after it (a deleted node, the ungrouped flow node, a node an undo takes away) ends, and
so does one that names another node after it: a node along it of another component, or a flow node along it running
another subflow (a restored version's namesake, a flow node given another subflow): its breakpoint, or pinned output,
was the old node's.
"""

from __future__ import annotations

from collections.abc import Iterable

from runtime import NodeSpec, PipelineSpec
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
    return _resolved(stored, _nodes_along(top, stored))


def _resolved(stored: str, nodes: list[NodeSpec | None]) -> bool:
    """`resolves`, from the nodes along `stored` (`_nodes_along`)."""
    segments = stored.split("/")
    return not segments[-1].isdigit() and all(n is not None for s, n in zip(segments, nodes, strict=True)
                                              if not s.isdigit())


def _nodes_along(top: PipelineSpec, stored: str) -> list[NodeSpec | None]:
    """The node each segment of `stored` names in `top` (None: an item index, or no node at its level)."""
    nodes: list[NodeSpec | None] = []
    for segment, level in zip(stored.split("/"), levels_of(top, stored), strict=True):
        spec = None if level is None or segment.isdigit() else top if not level else top.subflows.get(level)
        nodes.append(spec.node(segment) if spec is not None else None)
    return nodes


def _same_node(was: NodeSpec | None, now: NodeSpec | None) -> bool:
    """Whether a node along a path is still the one it was: the same component, and for a flow node the same
    subflow (a namesake of another kind, or inside another subflow, is another node)."""
    if was is None or now is None:
        return was is now
    return was.component == now.component and (
        was.component not in FLOW_IDS or was.params.get("subflow") == now.params.get("subflow"))


def moved_paths(ids: Iterable[str], before: PipelineSpec, scope: str, moves: dict[str, str]) -> dict[str, str]:
    """{stored path: its new path} after an edit of `scope` that moved each prefix of `moves` to its value: a prefix
    starts at a node of `scope` (`a`, or `g/x` for the node `x` inside the flow node `g`, an item index allowed)."""
    keys = _keys(moves)
    moved: dict[str, str] = {}
    for stored in ids:
        new = _moved(stored, before, scope, keys, moves)[0]
        if new != stored:
            moved[stored] = new
    return moved


Keys = list[tuple[str, list[str]]]  # the prefixes of a `moves`, split into segments, longest first


def _keys(moves: dict[str, str]) -> Keys:
    return sorted(((key, key.split("/")) for key in moves), key=lambda k: -len(k[1]))


def _moved(stored: str, before: PipelineSpec, scope: str, keys: Keys, moves: dict[str, str]
           ) -> tuple[str, list[tuple[int, int]]]:
    """`stored` after the moves, and which segment of it names the node each segment named before: (before index,
    after index) pairs. A moved prefix's last node is the one at its new path's end; a flow node that a group puts
    around it, or an ungroup takes away, pairs with none."""
    segments, levels = stored.split("/"), levels_of(before, stored)
    changed: list[str] = []
    pairs: list[tuple[int, int]] = []
    i = 0
    while i < len(segments):
        match = _prefix_at(segments, i, keys) if keys and levels[i] == scope else None
        if match is None:
            if not segments[i].isdigit():
                pairs.append((i, len(changed)))
            changed.append(segments[i])
            i += 1
        else:
            changed.extend(moves[match[0]].split("/"))
            pairs.append((match[1] - 1, len(changed) - 1))
            i = match[1]
    return "/".join(changed), pairs


def _prefix_at(segments: list[str], start: int, keys: Keys) -> tuple[str, int] | None:
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
    named a node before it and name none after it, or another one: a node along the path is now of another component,
    or a flow node along it runs another subflow (a restored version's namesake, a flow node given another subflow).
    A path that named nothing before stays as it is."""
    keys = _keys(moves)
    moved: dict[str, str] = {}
    ended: list[str] = []
    for stored in ids:
        new, pairs = _moved(stored, before, scope, keys, moves)
        was = _nodes_along(before, stored)
        if _resolved(stored, was) and not _still_names(was, after, new, pairs):
            ended.append(stored)
        elif new != stored:
            moved[stored] = new
    return moved, ended


def _still_names(was: list[NodeSpec | None], after: PipelineSpec, new: str, pairs: list[tuple[int, int]]) -> bool:
    """Whether `new` names in `after` the node a stored path named through the nodes `was`, through the same nodes."""
    now = _nodes_along(after, new)
    return _resolved(new, now) and all(_same_node(was[i], now[j]) for i, j in pairs)


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
