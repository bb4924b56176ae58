"""Split texts into overlapping chunks of at most `chunk_size` characters, on natural boundaries.

A chunk ends where the text breaks most strongly inside the second half of its window: a paragraph,
then a sentence or line, then a clause (`,;:`), then any space. Words are never cut, except a single
word longer than `chunk_size`. The next chunk starts up to `chunk_overlap` characters before the end of
the previous one, at a sentence start when one fits, else at a word. Pure Python, no dependencies.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from components_catalog.types import Document

__all__ = ["CHUNK_ID_LENGTH", "chunk_documents", "chunk_id", "split_text", "text_source_id"]

# A word (with any CJK sentence-final punctuation kept as its own break) and the whitespace after it.
_ATOM = re.compile(r"(?:[^\s。！？]+[。！？]*|[。！？]+)(?P<space>\s*)")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:，；：][\"'”’)\]]*$")
PARAGRAPH, SENTENCE, CLAUSE, WORD = 3, 2, 1, 0
CHUNK_ID_LENGTH = 24  # hex digits of a chunk id, after its prefix


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int  # where the word starts
    end: int  # where the word ends (whitespace after it excluded)
    strength: int  # how strongly the text breaks after this word


def _strength(word: str, space: str) -> int:
    if re.search(r"\n[ \t]*\n", space):
        return PARAGRAPH
    if _SENTENCE_END.search(word) or "\n" in space:
        return SENTENCE
    return CLAUSE if _CLAUSE_END.search(word) else WORD


def _atoms(text: str, chunk_size: int) -> list[_Atom]:
    """Words with their break strength; words longer than `chunk_size` are cut into pieces."""
    atoms: list[_Atom] = []
    for match in _ATOM.finditer(text):
        start, end = match.start(), match.start("space")
        strength = _strength(text[start:end], match.group("space"))
        for piece in range(start, end, chunk_size):
            last = piece + chunk_size >= end
            atoms.append(_Atom(piece, min(piece + chunk_size, end), strength if last else WORD))
    return atoms


def _chunk_end(atoms: Sequence[_Atom], first: int, chunk_size: int, min_last: int) -> int:
    """Index of the last atom of the chunk starting at atom `first`; at least `min_last` (progress)."""
    start, last = atoms[first].start, first
    while last + 1 < len(atoms) and atoms[last + 1].end - start <= chunk_size:
        last += 1
    if last == len(atoms) - 1:
        return last
    floor = start + chunk_size // 2  # never end in the first half of the window when avoidable
    candidates = [i for i in range(max(first, min_last), last + 1) if atoms[i].end >= floor] or [last]
    return max(candidates, key=lambda i: (atoms[i].strength, i))


def _next_start(atoms: Sequence[_Atom], first: int, last: int, chunk_size: int, overlap: int) -> int:
    """Where the chunk after atoms[first..last] starts: inside its last `overlap` characters, if any."""
    end, next_end = atoms[last].end, atoms[last + 1].end
    fits = [i for i in range(first + 1, last + 1)
            if end - atoms[i].start <= overlap and next_end - atoms[i].start <= chunk_size]
    if not fits:
        return last + 1
    sentence_starts = [i for i in fits if atoms[i - 1].strength >= SENTENCE]
    return (sentence_starts or fits)[0]


def split_text(text: str, chunk_size: int = 800, chunk_overlap: int = 100) -> list[str]:
    """`text` cut into chunks of at most `chunk_size` characters (see the module docstring)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}.")
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError(f"chunk_overlap must be >= 0 and smaller than chunk_size ({chunk_size}), "
                         f"got {chunk_overlap}.")
    atoms = _atoms(text, chunk_size)
    chunks: list[str] = []
    first = min_last = 0
    while first < len(atoms):
        last = _chunk_end(atoms, first, chunk_size, min_last)
        chunks.append(text[atoms[first].start : atoms[last].end])
        if last == len(atoms) - 1:
            break
        first, min_last = _next_start(atoms, first, last, chunk_size, chunk_overlap), last + 1
    return chunks


def chunk_id(source_id: str, index: int, prefix: str = "") -> str:
    """A stable id for chunk `index` of document `source_id`: re-indexing the same text upserts."""
    digest = hashlib.sha256(f"{source_id}\x1f{index}".encode()).hexdigest()[:CHUNK_ID_LENGTH]
    return f"{prefix}{digest}"


def text_source_id(text: str) -> str:
    """The id of a plain text that came without one: derived from its content."""
    return "text-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_documents(
    documents: Iterable[Document], *, chunk_size: int = 800, chunk_overlap: int = 100, id_prefix: str = "",
    extra_metadata: dict[str, Any] | None = None,
) -> list[Document]:
    """Chunks of every document; each keeps its document's metadata plus `source_id` and `chunk`."""
    out: list[Document] = []
    for doc in documents:
        for index, text in enumerate(split_text(doc.text, chunk_size, chunk_overlap)):
            metadata = {**(extra_metadata or {}), **doc.metadata, "source_id": doc.id, "chunk": index}
            out.append(Document(id=chunk_id(doc.id, index, id_prefix), text=text, metadata=metadata))
    return out
