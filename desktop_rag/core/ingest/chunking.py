"""Pages -> chunks sized in the embedder's own tokens.

all-MiniLM-L6-v2 silently truncates past 256 word pieces, so chunk length is counted with the
embedder's tokenizer, never in characters. The whole document is tokenized once (offsets
mapping), then cut greedily: each chunk takes at most ``max_tokens`` tokens and ends at the best
break in its second half - a paragraph, else a sentence end, else a line, else a word. Chunks may
cross a page break; each records the pages it spans and character offsets in those pages' text.
The sections of a document without pages are chunked one by one (:func:`chunk_sections`), so that
a passage, and so its citation, lies in one section, under one heading path.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_left, bisect_right
from typing import Callable, Sequence

from desktop_rag.core.types import Chunk, Page

PAGE_JOINER = "\n\n"
TokenOffsets = Callable[[str], list[tuple[int, int]]]

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s")


def _best_break(text: str, lo: int, hi: int) -> int:
    """A cut position in ``text[lo:hi]``; the chunk ends there (exclusive)."""
    window = text[lo:hi]
    para = window.rfind("\n\n")
    if para > 0:
        return lo + para
    sentence = None
    for sentence in _SENTENCE_END.finditer(window):
        pass
    if sentence is not None:
        return lo + sentence.end() - 1
    for sep in ("\n", " ", "\t"):
        pos = window.rfind(sep)
        if pos > 0:
            return lo + pos
    return hi


class _PageMap:
    """Maps a character position in the joined document text to (page number, offset)."""

    def __init__(self, pages: Sequence[Page]) -> None:
        self.numbers = [p.number for p in pages]
        self.starts: list[int] = []
        pos = 0
        for page in pages:
            self.starts.append(pos)
            pos += len(page.text) + len(PAGE_JOINER)

    def locate(self, pos: int) -> tuple[int, int]:
        index = bisect_right(self.starts, pos) - 1
        return self.numbers[index], pos - self.starts[index]


def join_pages(pages: Sequence[Page]) -> str:
    return PAGE_JOINER.join(p.text for p in pages)


def chunk_pages(
    pages: Sequence[Page],
    token_offsets: TokenOffsets,
    max_tokens: int,
    overlap_tokens: int = 0,
) -> list[Chunk]:
    """Split a document's pages into chunks of at most ``max_tokens`` embedder tokens.

    ``token_offsets(text)`` returns the (start, end) character span of every token of ``text``
    (no special tokens). ``overlap_tokens`` of context are repeated at the start of the next chunk,
    rounded forward to a word start.
    """
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    if not 0 <= overlap_tokens < max_tokens // 2:
        raise ValueError("overlap_tokens must be in [0, max_tokens / 2)")
    text = join_pages(pages)
    spans = token_offsets(text)
    if not spans:
        return []
    starts = [s for s, _ in spans]
    page_map = _PageMap(pages)
    chunks: list[Chunk] = []
    i, n = 0, len(spans)
    while i < n:
        j = _chunk_end(text, spans, starts, i, max_tokens)
        chunks.append(_chunk(text, spans, i, j, page_map, len(chunks)))
        if j >= n:
            break
        i = _next_start(text, spans, i, j, overlap_tokens)
    return chunks


def chunk_sections(
    pages: Sequence[Page],
    token_offsets: TokenOffsets,
    max_tokens: int,
    overlap_tokens: int = 0,
) -> list[Chunk]:
    """As :func:`chunk_pages`, but no chunk crosses from one page (a section) to the next."""
    chunks: list[Chunk] = []
    for page in pages:
        for chunk in chunk_pages([page], token_offsets, max_tokens, overlap_tokens):
            chunks.append(dataclasses.replace(chunk, ordinal=len(chunks)))
    return chunks


def _chunk_end(text: str, spans: list[tuple[int, int]], starts: list[int], i: int, max_tokens: int) -> int:
    """One past the last token of the chunk starting at token ``i``: at most ``max_tokens`` on, at the
    best break in the second half of that window."""
    n = len(spans)
    j = min(i + max_tokens, n)
    if j < n:
        cut = _best_break(text, spans[i + max_tokens // 2][0], spans[j][0])
        j = max(bisect_left(starts, cut, i + 1, j), i + 1)
    return j


def _chunk(text: str, spans: list[tuple[int, int]], i: int, j: int, page_map: _PageMap, ordinal: int) -> Chunk:
    """Tokens ``[i, j)`` as a chunk, located on its page(s)."""
    start_char, end_char = spans[i][0], spans[j - 1][1]
    page_start, start_offset = page_map.locate(start_char)
    page_end, end_before = page_map.locate(end_char - 1)
    return Chunk(ordinal=ordinal, text=text[start_char:end_char], page_start=page_start, page_end=page_end,
                 start_offset=start_offset, end_offset=end_before + 1, token_count=j - i)


def _next_start(text: str, spans: list[tuple[int, int]], i: int, j: int, overlap: int) -> int:
    """First token of the next chunk: ``overlap`` tokens back from ``j``, moved to a word start."""
    k = max(j - overlap, i + 1)
    while k < j and spans[k][0] > 0 and not text[spans[k][0] - 1].isspace():
        k += 1
    return k
