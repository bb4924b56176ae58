"""Pausing Python's cyclic garbage collector while a large spec is validated and compiled.

Both allocate many objects that outlive the call; each full collection they trigger traverses the
whole heap, not just the spec, so a 5,000-node compile cost three times per node what a 200-node one
did. Reference counting still frees everything as usual; the collector resumes (and may run) after.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["gc_paused"]

P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with the cyclic collector paused; nested calls leave it to the outermost."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused
