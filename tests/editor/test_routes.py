"""Every editor URL is built by `editor.routes`: pages, links, redirects and the address bar agree."""

from __future__ import annotations

import re
from pathlib import Path

import reflex as rx

from editor import routes

EDITOR = Path(__file__).resolve().parents[2] / "editor"


def test_urls_of_plain_ids() -> None:
    assert routes.pipeline("p1") == "/pipelines/p1"
    assert routes.pipeline_run("p1", "r1") == "/pipelines/p1?run=r1"
    assert routes.review("t1") == "/reviews?task=t1"
    assert routes.shown_run("p1", "r1") == "/pipelines/p1?run=r1"
    assert routes.shown_run("p1", "") == "/pipelines/p1"
    assert routes.PIPELINE_PAGE == "/pipelines/[pid]"
    assert routes.API_PIPELINE_SPEC.format(pipeline_id="p1") == "/api/pipelines/p1/spec"


def test_urls_of_reflex_vars_are_vars() -> None:
    link = routes.review(rx.Var.create("t1"))
    assert isinstance(link, rx.Var)
    assert "/reviews?task=" in str(link)


def test_the_pipeline_id_is_read_back_from_the_path() -> None:
    assert routes.pipeline_id_of(routes.pipeline("abc")) == "abc"
    assert routes.pipeline_id_of("/pipelines/abc/") == "abc"
    assert routes.pipeline_id_of("/pipelines") == ""
    assert routes.pipeline_id_of("/reviews/abc") == ""


def test_the_address_bar_script_quotes_the_url() -> None:
    script = routes.replace_url_script('/pipelines/p"1')
    assert script == "window.history.replaceState(window.history.state, '', \"/pipelines/p\\\"1\")"
    assert routes.replace_url_script("/x", delay_ms=100).startswith("setTimeout(() => window.history.replaceState(")


def test_no_other_editor_module_spells_a_page_path() -> None:
    """Paths like `/pipelines/...` or `/reviews?...` only in routes.py (docstrings and comments aside)."""
    pattern = re.compile(r"""(?<![\w`])["'f]+/(?:pipelines|reviews|api)\b""")
    offenders = []
    for path in EDITOR.rglob("*.py"):
        if path.name == "routes.py" or ".web" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                offenders.append(f"{path.relative_to(EDITOR.parent)}:{number}: {line.strip()}")
    assert not offenders, "build these URLs with editor.routes:\n" + "\n".join(offenders)
