"""An upload the server refused before any handler ran (the 413 of `upload_limit.py`, a proxy's limit, a dropped
connection), as the browser reports it (`assets/upload_refusal.jsx`): the panel it came from says what was
refused, its size, the limit and what to do, in the words the handlers use for an oversized file."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from editor import eval_store, templates
from editor.components.upload_refusal import upload_refusal
from editor.state.evaluate import EvalState
from editor.state.new_pipeline import NewPipelineState
from editor.upload_limit import upload_limit_bytes
from editor.upload_refusals import RefusedUpload, dataset_refusal_message, import_refusal_issue

OVER = upload_limit_bytes() + 1


def report(name: str = "big.jsonl", size: object = OVER, status: object = 413, answer: object = "") -> dict:
    return {"status": status, "answer": answer, "files": [{"name": name, "size": size}]}


def test_a_dataset_over_every_cap_gets_the_handlers_message():
    refused = RefusedUpload.from_browser(report(), "the dataset")
    assert dataset_refusal_message(refused) == eval_store.too_large_message("big.jsonl", OVER)
    assert f"`big.jsonl` is {OVER:,} bytes; the editor takes datasets up to 20,000,000 bytes" in (
        dataset_refusal_message(refused))


def test_a_spec_over_every_cap_gets_the_handlers_issue():
    issue = import_refusal_issue(RefusedUpload.from_browser(report("./big.json"), "the spec file"))
    assert issue == templates.too_large_issue("big.json", OVER)
    assert issue.message == f"`big.json` is {OVER / 1e6:.1f} MB; imports are limited to 5 MB."


def test_a_connection_cut_off_for_an_oversized_file_still_names_the_limit():
    refused = RefusedUpload.from_browser(report(status=0), "the dataset")
    assert dataset_refusal_message(refused).startswith(f"`big.jsonl` is {OVER:,} bytes; the editor takes datasets")


def test_a_413_without_a_size_says_over_the_limit():
    refused = RefusedUpload.from_browser({"status": 413, "files": []}, "the dataset")
    assert dataset_refusal_message(refused).startswith("`the dataset` is over 20,000,000 bytes")


def test_a_smaller_limit_in_front_of_the_editor_is_explained():
    refused = RefusedUpload.from_browser(report("rows.csv", 2_000_000, answer="<html>nginx</html>"), "the dataset")
    message = dataset_refusal_message(refused)
    assert message.startswith("`rows.csv` (2,000,000 bytes) was refused as too large before it reached the editor "
                              "(HTTP 413): a proxy in front of the editor may take less")
    assert "nginx" not in message and "`patchwire eval`" in message
    issue = import_refusal_issue(RefusedUpload.from_browser(report("p.json", 2_000_000), "the spec file"))
    assert issue.code == "upload_refused" and "proxy" in issue.hint


@pytest.mark.parametrize(("status", "answer", "said"), [
    (403, "Forbidden:   Origin\nnot allowed", "the editor answered HTTP 403: Forbidden: Origin not allowed."),
    (0, "", "the connection closed before the editor answered"),
])
def test_other_failures_say_what_failed_and_what_to_do(status, answer, said):
    message = dataset_refusal_message(RefusedUpload.from_browser(report("rows.csv", 10, status, answer), "x"))
    assert message.startswith("`rows.csv` was not uploaded: ") and said in message
    assert message.endswith("Try again; if it keeps failing, the editor's log says why.")


def test_the_browser_report_is_untrusted_input(monkeypatch):
    monkeypatch.setenv("REFUSAL_CANARY_API_KEY", "sk-refusal-canary-42")
    odd = RefusedUpload.from_browser({"status": "413", "answer": 5, "files": [{"name": 7, "size": True}]}, "the dataset")
    assert odd == RefusedUpload("the dataset", None, 0, "")
    assert RefusedUpload.from_browser(None, "x") == RefusedUpload("x", None, 0, "")
    assert RefusedUpload.from_browser(report(size=-3), "x").size is None
    leaked = RefusedUpload.from_browser(report(status=500, answer="key sk-refusal-canary-42 " + "y" * 900), "x")
    assert "sk-refusal-canary-42" not in leaked.answer and len(leaked.answer) <= 200


def test_the_panels_show_the_refusal_where_their_handlers_show_errors():
    state = SimpleNamespace(dataset_error="")
    EvalState.upload_refused.fn(state, report())
    assert state.dataset_error == eval_store.too_large_message("big.jsonl", OVER)
    dialog = SimpleNamespace(import_title="", import_errors=[])
    dialog._show_errors = lambda title, exc: NewPipelineState._show_errors(dialog, title, exc)
    NewPipelineState.import_refused.fn(dialog, report("big.json"))
    assert dialog.import_title == "`big.json` was not imported:"
    assert dialog.import_errors[0]["message"] == templates.too_large_issue("big.json", OVER).message


def test_the_component_listens_for_the_uploads_handler_by_its_full_name():
    rendered = str(upload_refusal(EvalState.upload, EvalState.upload_refused).render())
    assert "editor___state___evaluate____eval_state.upload" in rendered
