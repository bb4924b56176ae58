"""Comparing two runs node by node: text diffs for strings, JSON diffs for structures, the differing nodes."""

from __future__ import annotations

from editor.run_compare import compare_nodes, differing_nodes, json_diff, text_diff


def test_text_diff_marks_removed_and_added_lines():
    lines = text_diff("one\ntwo\nthree", "one\nTWO\nthree")
    assert {"sign": "-", "text": "two"} in lines and {"sign": "+", "text": "TWO"} in lines
    assert lines[0]["sign"] == "@"
    assert text_diff("same", "same") == []


def test_json_diff_names_every_changed_path():
    a = {"docs": [{"id": "a", "score": 0.9}, {"id": "b"}], "n": 1, "gone": True}
    b = {"docs": [{"id": "a", "score": 0.5}], "n": 1, "new": "x"}
    assert json_diff(a, b) == [
        {"sign": "~", "text": "$.docs[0].score: 0.9 → 0.5"},
        {"sign": "-", "text": '$.docs[1]: {"id": "b"}'},
        {"sign": "-", "text": "$.gone: true"},
        {"sign": "+", "text": '$.new: "x"'},
    ]
    assert json_diff({"a": [1, 2]}, {"a": [1, 2]}) == []
    assert json_diff(1, 1.0) == [{"sign": "~", "text": "$: 1 → 1.0"}]  # a type change is a change


def test_compare_nodes_text_json_missing_and_status():
    a = {"q": {"status": "succeeded", "outputs": {"value": "hi"}},
         "shout": {"status": "succeeded", "outputs": {"text": "HI!"}},
         "meta": {"status": "succeeded", "outputs": {"info": {"k": 1}}},
         "old": {"status": "succeeded", "outputs": {"value": 1}}}
    b = {"q": {"status": "succeeded", "outputs": {"value": "hi"}},
         "shout": {"status": "succeeded", "outputs": {"text": "hi?"}},
         "meta": {"status": "failed", "outputs": {"info": {"k": 1}}}}
    diffs = {d["node"]: d for d in compare_nodes(a, b, order=["shout", "q"])}
    assert list(diffs)[:2] == ["shout", "q"]  # the given order first
    assert diffs["q"]["same"] is True
    text = diffs["shout"]["ports"][0]
    assert text["kind"] == "text" and not text["same"] and text["a"] == "HI!" and text["b"] == "hi?"
    assert {"sign": "+", "text": "hi?"} in text["lines"]
    assert diffs["meta"]["same"] is False and diffs["meta"]["ports"][0]["same"] is True  # the status differs
    assert diffs["old"]["status_b"] == "absent" and diffs["old"]["ports"][0]["b"] == "(no value)"
    assert differing_nodes(list(diffs.values())) == {"shout": "differs", "meta": "differs", "old": "differs"}
