"""Undo/redo stacks of spec snapshots."""

from __future__ import annotations

from editor.history import COALESCE_S, LIMIT, History


def test_undo_and_redo_walk_the_snapshots():
    h = History()
    h.record("s0", now=0)
    h.record("s1", now=10)
    assert h.undo("s2") == "s1"
    assert h.undo("s1") == "s0"
    assert h.undo("s0") is None and h.can_redo
    assert h.redo("s0") == "s1"
    assert h.redo("s1") == "s2"
    assert h.redo("s2") is None


def test_a_new_edit_forgets_the_redo_stack():
    h = History()
    h.record("s0", now=0)
    assert h.undo("s1") == "s0"
    h.record("s0", now=5)
    assert not h.can_redo


def test_typing_into_one_field_is_one_step():
    h = History()
    h.record("s0", now=0, key="param:times:n")
    h.record("s1", now=0.5, key="param:times:n")
    h.record("s2", now=1.0, key="param:times:n")
    h.record("s3", now=1.0 + COALESCE_S + 0.1, key="param:times:n")  # a pause: a new step
    h.record("s4", now=100, key="param:other:n")
    assert h.past == ["s0", "s3", "s4"]
    assert h.undo("s5") == "s4"
    h.record("s4", now=100.1, key="param:other:n")  # after an undo, the same key starts a new step
    assert h.past == ["s0", "s3", "s4"]


def test_history_is_bounded():
    h = History()
    for i in range(LIMIT + 50):
        h.record(f"s{i}", now=i)
    assert len(h.past) == LIMIT and h.past[0] == "s50"
