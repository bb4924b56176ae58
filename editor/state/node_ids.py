"""States that keep something per node id beside the spec (breakpoints, pins) follow the editor's renames, deletes,
groups and ungroups, and the undo and redo of each.

The edit's handler reports what it did (`renamed`, `deleted`, `grouped`, `ungrouped`, `replaced`, `param_set`: a flow
node given another subflow); `_travel` reports each undo and redo (`travelled`). Each state declared with
`@follows_node_ids` gets it as a `NodeIdChange` in its `_follow_node_ids` (underscored, so it is no event the browser
could send). The moves an edit made are kept in its undo step's notes (`editor.history`), so an undo moves the paths
back and a redo moves them again, and a follower keeps there what it must bring back (the breakpoints the edit
deleted): `follow_stored` does both in its table.
Without this module the editor state would import theirs, and theirs import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import reflex as rx

from runtime import PipelineSpec
from runtime.flow import FLOW_IDS

from ..breakpoint_moves import deleted_nodes, followed_paths, grouped_moves, inverse, ungrouped_moves
from ..node_rows import Followed, Kept, Plan
from ..subflow_scope import view

__all__ = ["NodeIdChange", "NodeIdFollower", "Moves", "follows_node_ids", "renamed", "deleted", "grouped",
           "ungrouped", "replaced", "param_set", "travelled", "follow_stored"]

MOVES = "node_ids"  # the key of a step's notes under which its `Moves` are kept
SUBFLOW_WAS = "subflow_was"  # ... and their {(scope, flow node id): its subflow when the step began}


@dataclass(frozen=True)
class Moves:
    scope: str  # the subflow whose nodes the edit changed ("": the pipeline's own)
    moved: dict[str, str]  # {old path prefix: new}, at that level (`editor.breakpoint_moves.moved_paths`)


@dataclass(frozen=True)
class NodeIdChange:
    pipeline_id: str
    before: PipelineSpec  # the pipeline's spec before the edit (paths through the nodes resolve in it) ...
    after: PipelineSpec  # ... and after it: a path that named a node before and names none here ends
    scope: str  # the subflow whose nodes changed ("": the pipeline's own)
    moved: dict[str, str] = field(default_factory=dict)  # {old path prefix: new} (`moved_paths`)
    notes: dict[str, Any] = field(default_factory=dict)  # the undo step's notes: a follower keeps what to bring back
    more: bool = False  # the edit goes on with its undo step (typing coalesced into one step): nothing to bring back


class NodeIdFollower(Protocol):
    async def _follow_node_ids(self, change: NodeIdChange) -> None: ...


Follow = Callable[[str, Plan, Sequence[Kept]], Followed]  # (pipeline id, plan, restore): `node_rows.follow_rows`
Paths = Callable[[list[str], PipelineSpec, PipelineSpec, str, dict[str, str]], tuple[dict[str, str], list[str]]]


def follow_stored(change: NodeIdChange, follow: Follow, key: str, paths: Paths = followed_paths) -> Followed:
    """A follower's rows after `change` (in a worker thread), read and changed in its table, the truth (other tabs may
    have changed them since): `paths` says what moves and ends (`followed_paths`'s arguments), and the step's notes
    keep under `key` the rows it deleted, for its undo or redo to bring back (an edit that goes on with its step adds
    to them)."""
    restore = [] if change.more else change.notes.pop(key, [])
    followed = follow(change.pipeline_id, lambda ids: paths(ids, change.before, change.after, change.scope,
                                                             change.moved), restore)
    if followed.dropped:
        change.notes[key] = [*change.notes.get(key, []), *followed.dropped]
    return followed


_followers: list[type[rx.State]] = []
S = TypeVar("S", bound=type[rx.State])


def follows_node_ids(state: S) -> S:
    if state not in _followers:
        _followers.append(state)
    return state


async def _tell(editor: Any, change: NodeIdChange) -> None:
    for follower in _followers:
        await cast(NodeIdFollower, await editor.get_state(follower))._follow_node_ids(change)


async def _edited(editor: Any, before: PipelineSpec | None, scope: str, moved: dict[str, str], *,
                  more: bool = False) -> None:
    """After an edit that made a new undo step, or went on with one (`more`; `editor._spec` is not `before`): keep
    its moves, tell the followers."""
    if before is None or editor._spec is None or editor._spec is before:
        return
    notes = editor._history.notes()
    notes[MOVES] = Moves(scope, moved)
    await _tell(editor, NodeIdChange(editor.pipeline_id, before, editor._spec, scope, moved, notes, more))


async def renamed(editor: Any, before: PipelineSpec | None, scope: str, old: str, new: str) -> None:
    """After `editor.rename_node`: tell the followers if it renamed `old` (`before`: the spec it started from)."""
    await _edited(editor, before, scope, {old: new.strip()})


async def deleted(editor: Any, before: PipelineSpec | None, scope: str, node_ids: Iterable[str]) -> None:
    """After `editor.on_delete`: tell the followers if it deleted any of `node_ids`."""
    if before is not None and editor._spec is not None and deleted_nodes(before, editor._spec, scope, map(str, node_ids)):
        await _edited(editor, before, scope, {})


async def grouped(editor: Any, before: PipelineSpec | None, scope: str, node_ids: Iterable[str], node_id: str) -> None:
    """After a group of `node_ids` into the new flow node `node_id`: paths through them go through it."""
    if (shown := view(before, scope)) is not None:
        await _edited(editor, before, scope, grouped_moves(shown, node_ids, node_id))


async def ungrouped(editor: Any, before: PipelineSpec | None, scope: str, node_id: str, brought: list[str]) -> None:
    """After an ungroup of the flow node `node_id`: paths through it and an inner node go through the node brought."""
    if (shown := view(before, scope)) is not None:
        await _edited(editor, before, scope, ungrouped_moves(shown, node_id, brought))


async def replaced(editor: Any, before: PipelineSpec | None) -> None:
    """After the whole spec was replaced (a named version restored): paths through nodes it has no more end."""
    await _edited(editor, before, "", {})


async def param_set(editor: Any, before: PipelineSpec | None, scope: str, node_id: str, name: str) -> None:
    """After an inspector edit of the param `name` of `node_id` (a node of `scope`): a flow node given another
    `subflow` ends the paths inside it (`followed_paths`; Ctrl+Z brings them back), and typing its name back to the
    one the undo step began with brings them back at once. Any other param tells nobody."""
    if name != "subflow" or before is None or editor._spec is None:
        return
    was, now = view(before, scope), view(editor._spec, scope)
    old, new = (was.node(node_id) if was else None), (now.node(node_id) if now else None)
    if old is None or new is None or old.component not in FLOW_IDS or old.params.get(name) == new.params.get(name):
        return
    notes = editor._history.notes()
    began = notes.setdefault(SUBFLOW_WAS, {}).setdefault((scope, node_id), old.params.get(name))
    typed_on = MOVES in notes and new.params.get(name) != began  # else the first keystroke, or back where it began
    await _edited(editor, before, scope, {}, more=typed_on)


async def travelled(editor: Any, before: PipelineSpec, notes: dict[str, Any], *, back: bool) -> None:
    """After an undo (`back`) or redo from `before` of the step with these notes: the step's moves, backwards or
    again (a step without moves, e.g. adding a node, still ends the paths through the nodes it takes away)."""
    if editor._spec is None:
        return
    moves = notes.get(MOVES) or Moves("", {})
    moved = inverse(moves.moved) if back else moves.moved
    await _tell(editor, NodeIdChange(editor.pipeline_id, before, editor._spec, moves.scope, moved, notes))
