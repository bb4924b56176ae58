"""Breakpoints on nodes inside flow nodes, addressed by their path: pure parsing, matching and checking.

A path is the flow nodes' ids and the inner node's id joined by `/` (`sub1/inner`, `outer/m2/work` when flows
nest), the form of `patchwire.node.path` and of a forwarded event's `node_id` with the item or iteration
indexes left out: `map1/summarise` pauses `summarise` in every item of `map1`. An index after a flow node
narrows it to that item or iteration (`map1/3/summarise`, `loop1/0/step`), so a path copied from a trace or
the run inspector works as it is. Node ids start with a letter or `_`, so a segment of digits is an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NodePath", "parse_path", "path_problem", "breakpoints_on"]

_FORMAT_HINT = ("write the flow nodes' ids and the node's id joined by `/`, an item or iteration index after a "
                "flow node if you want only that one (`map1/summarise`, `map1/3/summarise`)")


@dataclass(frozen=True, slots=True)
class NodePath:
    """A breakpoint inside flow nodes: each flow node with the index it names (None: every one), the node."""

    levels: tuple[tuple[str, int | None], ...]
    node: str

    def matches(self, prefix: tuple[Any, ...]) -> bool:
        """Whether it names a node of the sub-run at `prefix` (`("outer", 1, "m2", 0)`)."""
        levels = self.levels
        if len(prefix) != 2 * len(levels):
            return False
        for depth, (flow_id, index) in enumerate(levels):
            if prefix[2 * depth] != flow_id or (index is not None and prefix[2 * depth + 1] != index):
                return False
        return True


def parse_path(text: str) -> NodePath | None:
    """The path in `text` (`map1/3/summarise`); None when it names no node inside a flow node."""
    segments = text.split("/")
    if len(segments) < 2 or not segments[-1] or segments[-1].isdigit():
        return None
    levels: list[tuple[str, int | None]] = []
    for segment in segments[:-1]:
        if segment.isdigit() and levels and levels[-1][1] is None:
            levels[-1] = (levels[-1][0], int(segment))
        elif segment and not segment.isdigit():
            levels.append((segment, None))
        else:  # empty, leading or doubled index
            return None
    return NodePath(tuple(levels), segments[-1])


def path_problem(plan: Any, text: str) -> str | None:
    """Why `text` names no node inside `plan`'s flow nodes (None: it does), said with the fix."""
    path = parse_path(text)
    if path is None:
        return f"Cannot set a breakpoint on `{text}`: {_FORMAT_HINT}."
    where = "the pipeline"
    for flow_id, _ in path.levels:
        index = plan.by_id.get(flow_id)
        if index is None:
            return f"Cannot set a breakpoint on `{text}`: {where} has no node `{flow_id}`. Its nodes: {_ids(plan)}."
        node = plan.nodes[index]
        inner = getattr(node.component, "plan", None) if node.runs_subflows else None
        if inner is None:
            flows = ", ".join(f"`{n.id}`" for n in plan.nodes if n.runs_subflows) or "none"
            return (f"Cannot set a breakpoint on `{text}`: `{flow_id}` (`{node.component_id}`) is not a flow node, "
                    f"so no node runs inside it. Flow nodes in {where}: {flows}.")
        plan, where = inner, f"subflow `{node.params.subflow}` (run by `{flow_id}`)"
    if path.node not in plan.by_id:
        return f"Cannot set a breakpoint on `{text}`: {where} has no node `{path.node}`. Its nodes: {_ids(plan)}."
    return None


def breakpoints_on(plan: Any, node_ids: Any) -> list[str]:
    """Those of `node_ids` (top-level ids or paths) that name a node of `plan`, in their order: what a caller
    keeping breakpoints across edits (the editor) hands to a new `Debugger` without it refusing any."""
    return [n for n in node_ids if (n in plan.by_id if "/" not in n else path_problem(plan, n) is None)]


def _ids(plan: Any) -> str:
    return ", ".join(f"`{node_id}`" for node_id in plan.by_id)
