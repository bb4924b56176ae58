"""Which run a tab shows: the run-view transitions `RunState.show` / `clear` apply (no browser, no Reflex)."""

from __future__ import annotations

import pytest

from editor.shown_run import RunView, StoredRun, run_to_load, source_of
from editor.statuses import IDLE


def test_showing_a_run_stands_down_older_watchers_and_forgets_old_problems() -> None:
    refused = RunView().refuse(["Input `q` is required"])
    shown = refused.show("r1", "running", started_from="retrieve")
    assert shown == RunView("r1", "running", 1, (), "retrieve")
    assert not shown.is_current(refused.seq) and shown.is_current(1)
    again = shown.show("r1", "running")  # the same run shown afresh (a reload): a new watcher, the old stands down
    assert again.seq == 2 and again.started_from == ""


def test_clearing_shows_no_run_and_stands_down_the_watcher() -> None:
    shown = RunView().show("r1", "running")
    cleared = shown.clear()
    assert (cleared.run_id, cleared.status, cleared.problems) == ("", IDLE, ())
    assert cleared.seq == shown.seq + 1


def test_a_refused_run_keeps_what_was_shown() -> None:
    shown = RunView().show("r1", "succeeded")
    refused = shown.refuse(["Nothing to run"])
    assert (refused.run_id, refused.status, refused.seq) == ("r1", "succeeded", shown.seq)
    assert refused.problems == ("Nothing to run",)


def test_a_snapshot_changes_only_the_status() -> None:
    shown = RunView().show("r1", "running")
    assert shown.with_status("running") is shown
    assert shown.with_status("failed") == RunView("r1", "failed", shown.seq)


def test_an_ended_run_of_this_pipeline_shows_its_record() -> None:
    base = RunView().clear(started_from="b")
    view, show_record = base.ended("r1", StoredRun("p1", "interrupted"), live_status=None, pipeline_id="p1",
                                   viewing=False)
    assert show_record and view == RunView("r1", "interrupted", base.seq, (), "b")


def test_another_pipelines_run_is_refused_unless_viewing_an_old_run() -> None:
    base = RunView().clear()
    view, show_record = base.ended("r1", StoredRun("other", "succeeded"), live_status=None, pipeline_id="p1",
                                   viewing=False)
    assert not show_record and view.run_id == ""
    assert view.problems == ("Run `r1` belongs to another pipeline; open it from that pipeline's history.",)
    view, show_record = base.ended("r1", StoredRun("other", "succeeded"), live_status=None, pipeline_id="p1",
                                   viewing=True)
    assert show_record and view.run_id == "r1"


def test_a_run_not_stored_shows_what_the_process_knows_else_not_found() -> None:
    base = RunView().clear()
    view, show_record = base.ended("r1", None, live_status="cancelled", pipeline_id="p1", viewing=False)
    assert not show_record and (view.run_id, view.status, view.problems) == ("r1", "cancelled", ())
    view, show_record = base.ended("gone", None, live_status=None, pipeline_id="p1", viewing=False)
    assert not show_record and (view.run_id, view.status) == ("", IDLE)
    assert view.problems == ("Run `gone` was not found: it may have been deleted with its database.",)


def test_a_page_load_shows_the_asked_run_else_the_latest_in_flight() -> None:
    assert run_to_load("r9", ["r1", "r2"]) == ("r9", False)  # already in the address bar
    assert run_to_load("", ["r1", "r2"]) == ("r2", True)  # put into the address bar
    assert run_to_load("", []) == ("", False)


@pytest.mark.parametrize(("live_pipeline", "known", "done", "expected"), [
    ("p1", True, False, "live"),
    ("p1", True, True, "ended"),
    ("other", True, False, "stored"),  # another pipeline's run is never followed in this tab
    (None, False, True, "stored"),
])
def test_where_a_run_is_shown_from(live_pipeline: str | None, known: bool, done: bool, expected: str) -> None:
    assert source_of(live_pipeline, known=known, done=done, pipeline_id="p1") == expected
