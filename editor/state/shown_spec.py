"""Which spec the editor's canvas shows: the pipeline, the subflow open in it (`editor.subflow_scope`), or an
old run's own spec shown read-only. `ShownSpecMixin` holds these methods; the vars they set (`_scope`,
`viewing_run`, `_view_spec`, ...) are `EditorState`'s own, declared there."""

from __future__ import annotations

import reflex as rx

from runtime import PipelineSpec

from .. import subflow_scope

__all__ = ["ShownSpecMixin"]


class ShownSpecMixin(rx.State, mixin=True):
    def shown_spec(self) -> PipelineSpec | None:
        """The spec on the canvas: the one being edited, or the old run's while viewing one (or its open subflow)."""
        return subflow_scope.view(self._view_spec if self.viewing_run else self._spec, self._scope)

    async def open_scope(self, name: str) -> None:
        """Show the subflow `name` on the canvas ("" the pipeline): edits then go to `spec.subflows[name]`."""
        top = self._view_spec if self.viewing_run else self._spec
        if top is None:
            return
        self._scope, self.selected_nodes, self.selected_edges = name, [], []
        self.focus = {"ids": [], "key": int(self.focus.get("key", 0)) + 1, "center": False}  # the browser's too
        self._show(top)
        self.fit_view_key += 1
        await self._refresh_inspector(clear=True)

    # --- viewing an old run (read-only) ------------------------------------------------------------
    async def view_spec(self, spec: PipelineSpec, run_id: str, label: str) -> None:
        """Show `spec` (an old run's own) on the canvas, read-only, until `stop_viewing`."""
        self._view_spec, self.viewing_run, self.viewing_label = spec, run_id, label
        self._show(spec)  # the browser keeps its selection: what it selected stays shown if it exists here
        self.fit_view_key += 1
        await self._refresh_inspector(clear=True)

    async def stop_viewing(self) -> None:
        if not self.viewing_run or self._spec is None:
            return
        self._view_spec, self.viewing_run, self.viewing_label = None, "", ""
        self._show(self._spec)
        self.fit_view_key += 1
        await self._refresh_inspector(clear=True)

    def _read_only_refusal(self):
        return rx.toast.info("This is an old run, shown read-only. Press “Back to editing” to change the pipeline.",
                             duration=3000, id="read-only")
