"""The debugger while a run is paused: which nodes wait at a breakpoint, the one shown in the inspector
with its resolved inputs as editable JSON, and Continue / Step (Stop is the run bar's own).

`RunState`'s watcher hands every snapshot of the shown run to `on_snapshot`; the decisions go to the run's
`runtime.debug.Debugger`, which type-checks edited inputs against the node's ports (a refusal is shown
inline and the node stays paused).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from runtime.debug import NotPaused
from runtime.live import live_runs

from ..debugging import inputs_text, parse_inputs_text
from ..subflow_breakpoints import paused_for
from .editor import EditorState, follows_editor
from .subflow_nav import SubflowNavState

__all__ = ["DebugState"]


@follows_editor
class DebugState(rx.State):
    run_id: str = ""
    paused: list[str] = []  # the shown run's nodes waiting at a breakpoint, in the order they paused
    node_id: str = ""  # the paused node the inspector shows and Continue / Step decide
    reason: str = ""  # breakpoint | step
    inputs_text: str = ""  # its resolved inputs, as JSON
    inputs_key: int = 0  # bumped when another pause is shown: the uncontrolled textarea remounts
    error: str = ""
    _draft: str | None = None  # what the user typed (sent on blur), when it differs from `inputs_text`

    # --- following the run ---------------------------------------------------------------------
    def on_snapshot(self, snapshot: dict[str, Any]) -> None:
        paused = list(snapshot.get("paused") or [])
        if snapshot["run_id"] != self.run_id:
            self.run_id = snapshot["run_id"]
        if paused != self.paused:
            self.paused = paused
        if self.node_id not in paused and (self.node_id or paused):  # a plain run never gets here
            self._show(paused[0] if paused else "")

    def clear(self) -> None:
        if self.run_id or self.paused or self.node_id:
            self.run_id, self.paused = "", []
            self._show("")

    async def follow_editor(self, editor: EditorState, *, clear: bool) -> None:
        """Selecting a paused node shows that one (when several wait; inside an open subflow, its first item
        paused)."""
        selected = editor.selected_nodes
        if len(selected) != 1 or not self.paused:
            return
        flow = (await self.get_state(SubflowNavState)).open_flow()
        run_id = paused_for(self.paused, flow, selected[0])
        if run_id is not None and paused_for([self.node_id], flow, selected[0]) is None:  # not shown yet
            self._show(run_id)

    def _show(self, node_id: str) -> None:
        """Show this paused node ("": none). Only vars that change are set: Reflex sends every var set."""
        paused = self._debugger_paused().get(node_id) if node_id else None
        shown = {"node_id": "", "reason": "", "inputs_text": "", "error": ""}
        if paused is not None:
            shown.update(node_id=node_id, reason=paused.reason, inputs_text=inputs_text(paused.inputs))
            self.inputs_key += 1  # a fresh textarea, even when the text is the same as the last pause's
        for name, value in shown.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
        self._draft = None

    def _debugger(self) -> Any:
        live = live_runs().get(self.run_id) if self.run_id else None
        return live.debugger if live is not None and not live.done else None

    def _debugger_paused(self) -> dict[str, Any]:
        debugger = self._debugger()
        return debugger.paused if debugger is not None else {}

    def breakpoints_changed(self, node_ids: list[str]) -> None:
        """Toggled while the shown run is in flight: it follows (a run started without any has no debugger)."""
        debugger = self._debugger()
        if debugger is not None:
            debugger.set_breakpoints(node_ids, skip_unknown=True)  # nodes added since the run started

    # --- deciding -----------------------------------------------------------------------------
    @rx.event
    def set_draft(self, text: str):
        self._draft = text

    @rx.event
    def resume(self):
        return self._decide("continue")

    @rx.event
    def step(self):
        return self._decide("step")

    def _decide(self, action: str):
        node_id, debugger = self.node_id, self._debugger()
        if not node_id or debugger is None:
            return rx.toast.info("No node is paused at a breakpoint.")
        text = self._draft if self._draft is not None else self.inputs_text
        try:
            given = parse_inputs_text(node_id, text)
            decide = debugger.step if action == "step" else debugger.resume
            edited = decide(node_id, given)
        except (ValueError, NotPaused) as exc:  # InputEditError is a ValueError: the node stays paused
            self.error = str(exc)
            return None
        self.paused = [n for n in self.paused if n != node_id]
        self._show(self.paused[0] if self.paused else "")
        if edited:
            return rx.toast.success(f"`{node_id}` runs with edited {', '.join(f'`{p}`' for p in edited)}.",
                                    duration=2500)
        return None

