"""components_catalog.retrieval.chunking: sizes, overlap, natural boundaries, deterministic ids, unicode."""

from __future__ import annotations

import re

import pytest

from components_catalog.retrieval.chunking import chunk_documents, chunk_id, split_text, text_source_id
from components_catalog.types import Document

TEXT = ("Patchwire runs pipelines. Each node starts when its inputs resolve, so independent branches run in "
        "parallel. The editor shows every node's status live.\n\nRetries are a node policy: the runtime "
        "retries, not the component. Timeouts cancel a node cleanly. Errors can be routed to an error branch "
        "instead of failing the run.")
WORDS = TEXT.split()


def positions(text: str, chunks: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each chunk in `text`, found left to right: chunks are verbatim slices."""
    spans: list[tuple[int, int]] = []
    for chunk in chunks:
        start = text.index(chunk, spans[-1][0] + 1 if spans else 0)
        spans.append((start, start + len(chunk)))
    return spans


@pytest.mark.parametrize(("size", "overlap"), [(50, 0), (80, 20), (120, 40), (200, 100), (1000, 100)])
def test_chunks_fit_the_size_cover_the_text_and_never_cut_a_word(size: int, overlap: int):
    chunks = split_text(TEXT, size, overlap)
    assert chunks and all(0 < len(c) <= size and c == c.strip() for c in chunks)
    spans = positions(TEXT, chunks)
    for start, end in spans:  # every chunk starts and ends on a word boundary
        assert start == 0 or TEXT[start - 1].isspace()
        assert end == len(TEXT) or TEXT[end].isspace()
    assert spans[0][0] == 0 and spans[-1][1] == len(TEXT)
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):  # no gap; overlap within budget
        assert next_start <= end + 2  # at most the whitespace between two words is skipped
        assert max(0, end - next_start) <= overlap


def test_a_short_text_is_one_chunk_and_blank_text_none():
    assert split_text(TEXT, 1000, 100) == [TEXT]
    assert split_text("", 100, 10) == []
    assert split_text(" \n\t ", 100, 10) == []


def test_without_overlap_the_chunks_rejoin_to_the_words_of_the_text():
    chunks = split_text(TEXT, 60, 0)
    assert " ".join(chunks).split() == WORDS


def test_overlap_repeats_the_end_of_the_previous_chunk_from_a_sentence_start_when_it_fits():
    chunks = split_text(TEXT, 120, 40)
    assert chunks == [
        "Patchwire runs pipelines. Each node starts when its inputs resolve, so independent branches run in "
        "parallel.",
        "so independent branches run in parallel. The editor shows every node's status live.",
        "editor shows every node's status live.\n\nRetries are a node policy: the runtime retries, not the "
        "component.",
        "the runtime retries, not the component. Timeouts cancel a node cleanly.",
        "Timeouts cancel a node cleanly. Errors can be routed to an error branch instead of failing the run.",
    ]


def test_chunks_end_at_the_strongest_break_in_the_second_half_of_the_window():
    text = "One two three four. Five six seven eight nine ten eleven twelve thirteen fourteen fifteen."
    assert split_text(text, 60, 0) == ["One two three four. Five six seven eight nine ten eleven",
                                       "twelve thirteen fourteen fifteen."]
    paragraphs = "First paragraph has words.\n\nSecond one. It has two sentences here."
    assert split_text(paragraphs, 50, 0) == ["First paragraph has words.", "Second one. It has two sentences here."]


def test_a_word_longer_than_the_chunk_size_is_the_only_thing_ever_cut():
    assert split_text("Supercalifragilisticexpialidocious is long", 10, 3) == [
        "Supercalif", "ragilistic", "expialidoc", "ious is", "is long"]


def test_unicode_is_measured_in_characters_and_cjk_sentences_are_boundaries():
    text = "Ünïcödé wörds stay whole 🙂 — naïve café. " * 6
    chunks = split_text(text.strip(), 50, 10)
    assert all(len(c) <= 50 for c in chunks)
    assert {w for c in chunks for w in c.split()} == set(text.split())
    assert split_text("日本語の文章です。次の文。三番目の文です。", 12, 4) == ["日本語の文章です。", "次の文。三番目の文です。"]


@pytest.mark.parametrize(("size", "overlap", "message"), [
    (0, 0, "chunk_size must be at least 1, got 0."),
    (10, 10, "chunk_overlap must be >= 0 and smaller than chunk_size (10), got 10."),
    (10, -1, "chunk_overlap must be >= 0 and smaller than chunk_size (10), got -1."),
])
def test_bad_sizes_are_refused_with_the_rule(size: int, overlap: int, message: str):
    with pytest.raises(ValueError) as info:
        split_text(TEXT, size, overlap)
    assert str(info.value) == message


def test_chunk_ids_are_deterministic_per_source_and_index_and_carry_the_prefix():
    assert chunk_id("doc-1", 0) == chunk_id("doc-1", 0)
    assert len({chunk_id("doc-1", 0), chunk_id("doc-1", 1), chunk_id("doc-2", 0)}) == 3
    assert re.fullmatch(r"kb-[0-9a-f]{24}", chunk_id("doc-1", 0, "kb-"))
    assert text_source_id("same text") == text_source_id("same text") != text_source_id("other text")


def test_chunk_documents_keeps_metadata_and_adds_source_id_and_chunk_number():
    docs = [Document(id="policies", text=TEXT, metadata={"topic": "runtime", "chunk": "overwritten"}),
            Document(id="blank", text="   ")]
    chunks = chunk_documents(docs, chunk_size=120, chunk_overlap=40, id_prefix="p-",
                             extra_metadata={"source": "handbook", "topic": "default"})
    assert [c.metadata for c in chunks] == [
        {"source": "handbook", "topic": "runtime", "chunk": i, "source_id": "policies"} for i in range(5)]
    assert [c.id for c in chunks] == [chunk_id("policies", i, "p-") for i in range(5)]
    again = chunk_documents(docs, chunk_size=120, chunk_overlap=40, id_prefix="p-")
    assert [c.id for c in again] == [c.id for c in chunks] and [c.text for c in again] == [c.text for c in chunks]
