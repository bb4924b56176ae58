"""The one set of truncation helpers every message and preview uses."""

from __future__ import annotations

from runtime.text import bounded, short_repr, shorten


def test_shorten_keeps_what_fits_and_marks_the_cut_within_the_limit():
    assert shorten("abc", 3) == "abc"
    assert shorten("abcdef", 5) == "ab..." and len(shorten("x" * 500, 100)) == 100
    assert shorten("abcdef", 4, "…") == "abc…"


def test_short_repr_cuts_without_building_a_huge_repr():
    assert short_repr({"value": "x"}) == "{'value': 'x'}"
    assert short_repr(list(range(10_000))) == "[0, 1, 2, 3, ...]"
    assert len(short_repr("y" * 10_000, 30)) == 30


def test_bounded_marks_every_cut():
    value, cut = bounded({"text": "x" * 50, "items": list(range(5)), "deep": [[["z"]]]}, limit=10, items=3, depth=3)
    assert cut and value == {"text": "x" * 10 + "… (50 chars)", "items": [0, 1, 2, "… 2 more"], "deep": [["…"]]}
    assert bounded({f"k{i}": i for i in range(4)}, limit=10, items=9, keys=2) == (
        {"k0": 0, "k1": 1, "…": "2 more keys"}, True)
    assert bounded(["short", 1, None], limit=10, items=3) == (["short", 1, None], False)


def test_no_module_cuts_text_by_hand():
    """`text[:n] + "…"` written again elsewhere drifts (an off-by-one, another marker): use `shorten`."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    by_hand = re.compile(r"""\[:[^\]\n]+\]\s*\+\s*f?["'](…|\.\.\.)""")
    found = [f"{path.relative_to(root)}:{number}" for package in ("runtime", "editor", "components_catalog")
             for path in sorted((root / package).rglob("*.py")) if path.relative_to(root).as_posix() != "runtime/text.py"
             for number, line in enumerate(path.read_text().splitlines(), start=1) if by_hand.search(line)]
    assert found == []
