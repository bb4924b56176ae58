"""The run bar's warm-up badge: "warming up…" while the first run's libraries load, then "ready"."""

from __future__ import annotations

import reflex as rx

from ..state.warmup import WarmupState

__all__ = ["warmup_status"]

_WHY = ("Loading the model library, the embedding model and the vector store in the background, so the first run "
        "is as fast as the next ones. You can run now; the first run just takes longer until this says ready.")


def warmup_status() -> rx.Component:
    return rx.el.span(
        rx.match(WarmupState.status, ("warming", "warming up…"), ("ready", "ready"), ""),
        class_name="pw-warmup pw-warmup-" + WarmupState.status,
        title=rx.cond(WarmupState.status == "warming", _WHY, "Models and vector store loaded"),
        custom_attrs={"data-testid": "warmup-status", "data-state": WarmupState.status, "role": "status"},
    )
