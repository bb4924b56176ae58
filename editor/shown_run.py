"""Which run an editor tab shows, and how each way of showing one moves it: plain Python, no Reflex.

`RunState` keeps one `RunView` in its vars and changes it only through these transitions. Every way
of showing a run (started here, opened from the history, `?run=` after a reload or from a review
decision, back to editing) goes through `RunState.show` / `RunState.clear`, which apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .statuses import IDLE

__all__ = ["RunView", "StoredRun", "Source", "run_to_load", "source_of"]

Source = Literal["live", "ended", "stored"]


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What the run store says about a run: enough to decide whether this tab may show it."""

    pipeline_id: str | None
    status: str


@dataclass(frozen=True, slots=True)
class RunView:
    run_id: str = ""  # "" = no run shown
    status: str = IDLE  # a `runtime.events.RunStatus`, or idle
    seq: int = 0  # bumped whenever the tab shows another run (or the same one afresh): older watchers stand down
    problems: tuple[str, ...] = ()  # why nothing ran, or why the run cannot be shown
    started_from: str = ""  # the node a "Run from here" started at

    def show(self, run_id: str, status: str, *, started_from: str = "") -> RunView:
        """Show `run_id` as it is now (in flight, or ended and known to this process)."""
        return RunView(run_id, status, self.seq + 1, (), started_from)

    def clear(self, *, started_from: str = "") -> RunView:
        """Show no run (until a stored record says which one, see `ended`)."""
        return RunView("", IDLE, self.seq + 1, (), started_from)

    def refuse(self, problems: Sequence[str]) -> RunView:
        """Nothing ran: say why, and keep showing what was shown."""
        return replace(self, problems=tuple(problems))

    def is_current(self, seq: int) -> bool:
        """A watcher or a read started for `seq` may still change the view."""
        return seq == self.seq

    def with_status(self, status: str) -> RunView:
        return self if status == self.status else replace(self, status=status)

    def ended(self, run_id: str, stored: StoredRun | None, *, live_status: str | None, pipeline_id: str,
              viewing: bool) -> tuple[RunView, bool]:
        """The view once an ended run is looked up, and whether to show its stored record.

        Not stored: what this process still knows of it (recording off), else "not found". Another
        pipeline's run is refused unless the tab views an old run read-only.
        """
        if stored is None:
            if live_status is not None:
                return replace(self, run_id=run_id, status=live_status), False
            return self.refuse([f"Run `{run_id}` was not found: it may have been deleted with its database."]), False
        if stored.pipeline_id != pipeline_id and not viewing:
            return self.refuse([f"Run `{run_id}` belongs to another pipeline; open it from that pipeline's history."]
                               ), False
        return replace(self, run_id=run_id, status=stored.status), True


def run_to_load(wanted: str, active: Sequence[str]) -> tuple[str, bool]:
    """On page load: the run to show (`?run=`, else the latest in flight) and whether to put it in the URL."""
    if wanted:
        return wanted, False
    if active:
        return active[-1], True
    return "", False


def source_of(live_pipeline_id: str | None, *, known: bool, done: bool, pipeline_id: str) -> Source:
    """Where to show a run from: `live` (followed while this process runs it), `ended` (this process ran it:
    its snapshot knows more than the store, e.g. reused vs cached) or `stored` (only its record). A run of
    another pipeline is only ever read from the store, whose record then refuses it."""
    if not known or live_pipeline_id != pipeline_id:
        return "stored"
    return "ended" if done else "live"
