"""Hits -> the passages the model reads: neighbours merged, then each widened on its page.

Search ranks chunks of about 200 embedder tokens: small enough to match a question closely, too
small to hold the answer reliably. The figure asked for is often a few lines away from the words
that matched (a table's title matched, its "Total" row did not), so each passage is widened on
its page to at least :data:`WIDEN_CHARS`, centred on the hit and cut at line ends ("small to big"
retrieval). Passages that then overlap on a page become one. The answerer packs them in rank
order while they fit the model's context, so more of them fit a larger context.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

from desktop_rag.core.types import Hit, Passage

PageText = Callable[[int, int], "str | None"]

MERGE_GAP_CHARS = 200
WIDEN_CHARS = 1200  # ~300 model tokens: measured on the SEC yardstick, 0.645 -> 0.750 context recall


def merge_hits(hits: Sequence[Hit], page_text: PageText) -> list[Passage]:
    """Merge overlapping or adjacent hits of the same page, drop repeated texts, number from 1."""
    groups: list[list[Hit]] = []
    for hit in hits:
        for group in groups:
            head = group[0]
            if (hit.doc_id == head.doc_id and hit.page == hit.page_end == head.page == head.page_end
                    and any(h.start_offset - MERGE_GAP_CHARS <= hit.end_offset
                            and hit.start_offset <= h.end_offset + MERGE_GAP_CHARS for h in group)):
                group.append(hit)
                break
        else:
            groups.append([hit])
    passages: list[Passage] = []
    seen_texts: list[str] = []
    for group in groups:
        start, end = min(h.start_offset for h in group), max(h.end_offset for h in group)
        text = group[0].text
        if len(group) > 1:
            text = (page_text(group[0].doc_id, group[0].page) or "")[start:end] or text
        key = " ".join(text.split())
        if any(key in seen for seen in seen_texts):  # same text, or wholly inside a kept passage
            continue
        seen_texts.append(key)
        head = group[0]
        passages.append(Passage(len(passages) + 1, head.doc_id, head.file, head.path, head.page, head.page_end,
                                start, end if len(group) > 1 else head.end_offset,
                                tuple(h.chunk_id for h in group), text, head.label))
    return passages


def widen(passages: Sequence[Passage], page_text: PageText, chars: int = WIDEN_CHARS) -> list[Passage]:
    """Each one-page passage grown on its page to at least ``chars`` characters (whole lines,
    centred on it, shifted inward at the page's edges); those that then overlap on a page are
    joined where the first of them ranked. Passages across a page break stay as they are."""
    out: list[Passage] = []
    for p in passages:
        text = page_text(p.doc_id, p.page) if p.page == p.page_end else None
        if not text:
            out.append(p)
            continue
        start, end = _window(text, p.start_offset, p.end_offset, chars)
        for i, kept in enumerate(out):
            if (kept.doc_id == p.doc_id and kept.page == kept.page_end == p.page
                    and start <= kept.end_offset and kept.start_offset <= end):
                start, end = min(start, kept.start_offset), max(end, kept.end_offset)
                out[i] = dataclasses.replace(kept, start_offset=start, end_offset=end, text=text[start:end],
                                             chunk_ids=kept.chunk_ids + p.chunk_ids)
                break
        else:
            out.append(dataclasses.replace(p, start_offset=start, end_offset=end, text=text[start:end]))
    return [dataclasses.replace(p, number=n) for n, p in enumerate(out, 1)]


_MID_SENTENCE_LINE = re.compile(r"[a-z]")  # a line that starts in lower case continues a sentence
_SENTENCE_BREAK = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[A-Z“\"(])")


def _sentence_start(text: str, start: int) -> int:
    """``start`` (a line start) moved to the next sentence when the line carries on a sentence from
    the line above ("region. Further information ..." starts at "Further"); else unchanged."""
    if start == 0 or not _MID_SENTENCE_LINE.match(text, start):
        return start
    line_end = text.find("\n", start)
    found = _SENTENCE_BREAK.search(text, start, len(text) if line_end < 0 else line_end)
    return found.end() if found else start


def _window(text: str, start: int, end: int, chars: int) -> tuple[int, int]:
    """``[start, end)`` of ``text`` grown to about ``chars`` characters, whole lines."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    grow = max(0, chars - (end - start))
    start, end = start - grow // 2, end + grow - grow // 2
    if start < 0:
        start, end = 0, end - start
    if end > len(text):
        start, end = max(0, start - (end - len(text))), len(text)
    start = text.rfind("\n", 0, start) + 1 if start > 0 else 0
    start = _sentence_start(text, start)
    line_end = text.find("\n", end)
    end = len(text) if line_end < 0 or end >= len(text) else line_end
    return start, end
