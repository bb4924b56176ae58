"""States that keep something per node id beside the spec (breakpoints) follow the editor's renames and deletes.

`EditorState.rename_node` and `on_delete` report what they did (`renamed`, `deleted`); each state declared with
`@follows_node_ids` gets it as a `NodeIdChange` in its `_follow_node_ids` (underscored, so it is no event the
browser could send). Without this module the editor state would import theirs, and theirs import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import reflex as rx

from runtime import PipelineSpec

from ..breakpoint_moves import deleted_nodes

__all__ = ["NodeIdChange", "NodeIdFollower", "follows_node_ids", "renamed", "deleted"]


@dataclass(frozen=True)
class NodeIdChange:
    pipeline_id: str
    before: PipelineSpec  # the pipeline's spec before the edit (paths through the nodes resolve in it)
    scope: str  # the subflow whose nodes changed ("": the pipeline's own)
    renamed: dict[str, str] = field(default_factory=dict)  # {old id: new id}
    deleted: set[str] = field(default_factory=set)


class NodeIdFollower(Protocol):
    async def _follow_node_ids(self, change: NodeIdChange) -> None: ...


_followers: list[type[rx.State]] = []
S = TypeVar("S", bound=type[rx.State])


def follows_node_ids(state: S) -> S:
    if state not in _followers:
        _followers.append(state)
    return state


async def _tell(editor: Any, change: NodeIdChange) -> None:
    for follower in _followers:
        await cast(NodeIdFollower, await editor.get_state(follower))._follow_node_ids(change)


async def renamed(editor: Any, before: PipelineSpec | None, scope: str, old: str, new: str) -> None:
    """After `editor.rename_node`: tell the followers if it renamed `old` (`before`: the spec it started from)."""
    if before is not None and editor._spec is not None and editor._spec is not before:
        await _tell(editor, NodeIdChange(editor.pipeline_id, before, scope, renamed={old: new.strip()}))


async def deleted(editor: Any, before: PipelineSpec | None, scope: str, node_ids: Iterable[str]) -> None:
    """After `editor.on_delete`: tell the followers which of `node_ids` it deleted."""
    if before is None or editor._spec is None or editor._spec is before:
        return
    gone = deleted_nodes(before, editor._spec, scope, [str(n) for n in node_ids])
    if gone:
        await _tell(editor, NodeIdChange(editor.pipeline_id, before, scope, deleted=gone))
