"""Saving a spec from the editor: what to tell the user when it fails (a conflict, a deleted pipeline, the database)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from runtime.store import pipelines as store

__all__ = ["write"]

log = logging.getLogger("editor.state.editor")


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
