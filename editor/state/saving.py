"""Saving a spec from the editor: autosave after a short quiet spell, Ctrl+S, leaving a pipeline with edits not
yet saved, and a conflict with another tab (load theirs or overwrite them); what to tell the user when a save
fails (a conflict, a deleted pipeline, the database).

`SavingMixin` holds the handlers; the vars it reads and sets (`save_status`, `conflict`, `revision`, `_spec`,
`_edit_seq`, `_saving`, ...) are `EditorState`'s own, declared there.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from runtime.store import pipelines as store

from .. import graph

__all__ = ["write", "SavingMixin", "AUTOSAVE_DELAY_S"]

log = logging.getLogger("editor.state.editor")
AUTOSAVE_DELAY_S = 0.6


async def write(pipeline_id: str, data: dict[str, Any], revision: int
                 ) -> tuple[store.PipelineRecord | None, str, bool]:
    """Save; on failure, (None, what to tell the user, whether it is a conflict with another tab)."""
    try:
        return await asyncio.to_thread(store.save_pipeline, pipeline_id, data, expected_revision=revision), "", False
    except store.RevisionConflict as exc:
        return None, (f"Not saved: someone changed this pipeline in another tab or window (now at revision "
                      f"{exc.current}, you started from {exc.expected}). Load their version, or overwrite it "
                      "with yours."), True
    except store.LiteralCredentialError as exc:
        return None, (f"Not saved: {exc} The node's issue shows where; your edits are kept in this tab and "
                      "saving retries on the next edit."), False
    except store.PipelineNotFound:
        return None, ("Not saved: this pipeline was deleted (e.g. from the pipelines list). Export it now if you "
                      "want to keep it."), False
    except Exception as exc:
        log.exception("saving pipeline %s failed", pipeline_id)
        return None, (f"Not saved: the database refused the write ({type(exc).__name__}: {exc}). Your edits are "
                      "kept in this tab; saving retries on the next edit."), False


class SavingMixin(rx.State, mixin=True):
    """EditorState's saving handlers (`EditorState.autosave`, `.save_now`, `.overwrite_theirs`, `.load_theirs`)."""

    def _handler(self, name: str) -> Any:
        """The state's own event handler `name`, to return as the next event (`self.__class__`: also through a
        background task's proxy)."""
        return getattr(self.__class__, name)

    async def _flush(self) -> None:
        """Leaving a pipeline with edits not yet saved (the autosave delay): save them now."""
        self._edit_seq += 1  # pending autosaves of the pipeline being left stand down
        if self._spec is None or self.save_status != "unsaved" or self.conflict or self._saving:
            return
        try:
            await asyncio.to_thread(store.save_pipeline, self.pipeline_id, graph.spec_to_dict(self._spec),
                                    expected_revision=self.revision)
        except Exception:
            log.warning("could not save pipeline %s while leaving it", self.pipeline_id, exc_info=True)

    @rx.event(background=True)
    async def autosave(self):
        async with self:
            seq = self._edit_seq
        await asyncio.sleep(AUTOSAVE_DELAY_S)
        async with self:
            if seq != self._edit_seq:
                return None  # a newer edit scheduled its own save
        return await self._save_once()

    @rx.event(background=True)
    async def save_now(self, _payload: dict | None = None):
        return await self._save_once()

    async def _save_once(self):
        async with self:
            if self._saving or self._spec is None or self.save_status not in ("unsaved", "error") or self.conflict:
                return None
            self._saving, self.save_status = True, "saving"
            seq, pipeline_id, revision = self._edit_seq, self.pipeline_id, self.revision
            data = graph.spec_to_dict(self._spec)
        record, problem, conflict = await write(pipeline_id, data, revision)
        async with self:
            self._saving = False
            if pipeline_id != self.pipeline_id:
                return None  # this tab opened another pipeline meanwhile
            if record is None:
                self.save_status, self.save_message, self.conflict = "error", problem, conflict
                return None
            self.revision = record.revision
            if self._edit_seq == seq:
                self.save_status, self.save_message = "saved", ""
                return None
            self.save_status = "unsaved"  # edited while saving: save again
        return self._handler("autosave")

    @rx.event
    async def overwrite_theirs(self):
        """Conflict: keep this tab's spec and save it over the other one."""
        record = await asyncio.to_thread(store.get_pipeline, self.pipeline_id)
        self.revision, self.conflict, self.save_status, self.save_message = record.revision, False, "unsaved", ""
        return self._handler("save_now")

    @rx.event
    async def load_theirs(self):
        """Conflict: drop this tab's unsaved edits and load what is saved."""
        self.save_status, self.conflict = "saved", False
        self.pipeline_id = ""
        return await self.load()
