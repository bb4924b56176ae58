"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import pytest

from runtime.registry import Registry
from runtime.testing.components import sample_registry


@pytest.fixture
def registry() -> Registry:
    """The built-ins (`io.input`, `io.output`) plus the sample components, fresh per test."""
    return sample_registry()
