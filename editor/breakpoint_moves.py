"""Which stored breakpoints a rename or a delete moves or drops. Pure functions; no Reflex here.

A breakpoint is stored under its node's path (`shout`, `m/work`, `nested/m2/work`: `editor.subflow_breakpoints`),
so renaming or deleting a node changes, or ends, the path of every breakpoint through it: on the node itself and,
for a flow node, on every node inside it. A subflow is one definition (`spec.subflows[name]`) that several flow
nodes may run, so an edit inside the subflow `each` reaches the breakpoints under each of them (`m/work` and
`s/work` when both `m` and `s` run `each`). Each segment of a path is resolved against the spec before the edit.
"""

from __future__ import annotations

from collections.abc import Iterable

from runtime import PipelineSpec
from runtime.flow import FLOW_IDS

from .subflow_scope import view

__all__ = ["levels_of", "renamed_paths", "deleted_paths", "deleted_nodes"]


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


def renamed_paths(ids: Iterable[str], before: PipelineSpec, scope: str, old: str, new: str) -> dict[str, str]:
    """{stored path: its new path} after renaming the node `old` of `scope` ("" or a subflow's name) to `new`."""
    moved: dict[str, str] = {}
    for stored in ids:
        segments = stored.split("/")
        changed = [new if segment == old and level == scope else segment
                   for segment, level in zip(segments, levels_of(before, stored), strict=True)]
        if changed != segments:
            moved[stored] = "/".join(changed)
    return moved


def deleted_paths(ids: Iterable[str], before: PipelineSpec, scope: str, deleted: set[str]) -> list[str]:
    """The stored paths through a node of `scope` in `deleted`: on it, or inside it."""
    return [stored for stored in ids
            if any(segment in deleted and level == scope
                   for segment, level in zip(stored.split("/"), levels_of(before, stored), strict=True))]


def deleted_nodes(before: PipelineSpec, after: PipelineSpec, scope: str, candidates: Iterable[str]) -> set[str]:
    """Those of `candidates` that the edit from `before` to `after` removed from `scope`."""
    was, now = view(before, scope), view(after, scope)
    assert was is not None and now is not None
    return {n for n in candidates if was.node(n) is not None and now.node(n) is None}
