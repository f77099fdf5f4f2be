"""Experiment (issue 10, not adopted): search each chunk with the section headings above it.

Copies an indexed library, works out each chunk's headings from the text alone (the detector
below), and rewrites the copy so that the keyword index (``fts``), the embeddings (``embed``) or
both (``both``) see "headings\\nchunk text" while the text shown stays the same. Then run
``desktop-rag --data-dir COPY eval --questions benchmarks/data/sec_page_labels.jsonl --modes hybrid``
on the copy and on the original.

Measured on the SEC yardstick (110 questions, page level; 2026-11-27, top_k 10, widened passages,
named-document weight 2):

    variant          hit@1  hit@5  hit@10  mrr@10  context recall
    none (current)   0.391  0.691  0.809   0.506   0.803
    fts              0.436  0.691  0.800   0.537   0.803
    embed            0.382  0.700  0.836   0.507   0.816
    both             0.382  0.709  0.809   0.506   0.803

With the named-document weight at 10 (adopted): none 0.455 / 0.764 / 0.818 / 0.573;
fts 0.473 / 0.745 / 0.827 / 0.585.

Each gain is two to five questions of 110, in different metrics for each variant, and dense or
keyword search alone got no better with headings; it was not worth re-indexing every library for.

Usage: python benchmarks/exp_heading_context.py SOURCE_DATA_DIR COPY_DIR {fts,embed,both}
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from bisect import bisect_right
from dataclasses import dataclass
from typing import Sequence
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from desktop_rag.config import load_settings  # noqa: E402
from desktop_rag.core.answer.running import running_lines  # noqa: E402
from desktop_rag.core.types import Page  # noqa: E402
from desktop_rag.services import make_embedder  # noqa: E402

import re


MAX_HEADING_CHARS = 90
MAX_HEADING_WORDS = 12
_NUMBERED = re.compile(r"^(?:(?:note|item|part|section|chapter|article|appendix|schedule)\s+[\dIVXLC]+[A-Z]?\b"
                       r"|\d{1,2}(?:\.\d{1,2}){0,3}\.\s+[A-Z]|\d{1,2}(?:\.\d{1,2}){1,3}\s+[A-Z])", re.IGNORECASE)
_SMALL_WORDS = frozenset("a an and as at by for from in of on or per the to vs via with".split())
_WORD = re.compile(r"[^\W\d_][\w'’&-]*", re.UNICODE)
_DIGIT = re.compile(r"\d")
_NOT_HEADING_END = (".", ",", ";", ":", "-", "(", "$", "%", "and", "or")
_NOT_HEADING_START = re.compile(r"^(?:table of contents|page \d|\(?in (?:millions|thousands|billions))", re.IGNORECASE)


def is_heading(line: str, previous: str = "") -> bool:
    """Whether one line of extracted text (``previous``: the line above it) looks like a heading."""
    line = line.strip()
    if not 3 <= len(line) <= MAX_HEADING_CHARS or line.endswith(_NOT_HEADING_END) or line[-1].isdigit():
        return False  # too long, a sentence or label going on, a contents entry ("Risk Factors 20")
    if not line[0].isalnum() or _NOT_HEADING_START.match(line) or previous.rstrip().endswith(":"):
        return False  # a running header, a unit line, the first line of a table the text announced
    words = _WORD.findall(line)
    if not words or len(line.split()) > MAX_HEADING_WORDS or len(words) < len(line.split()) / 2:
        return False
    if _NUMBERED.match(line):
        return True
    lowered = [w.lower() for w in words]
    if len(words) < 2 or len(set(lowered)) < len(lowered) or lowered[-1] in _SMALL_WORDS:
        return False  # one word (a column name), repeated words (column headers), a wrapped line
    capitalised = [w for w in words if w.lower() not in _SMALL_WORDS]
    return bool(capitalised) and words[0][0].isupper() and all(w[0].isupper() for w in capitalised)


def is_numbered(line: str) -> bool:
    return bool(_NUMBERED.match(line.strip()))


@dataclass(frozen=True, slots=True)
class _Heading:
    position: int  # offset of the heading's line in the joined text
    text: str
    numbered: bool


class SectionMap:
    """Where each heading of a document starts, in the text of its pages joined by ``joiner``."""

    def __init__(self, pages: Sequence[Page], joiner: str, running: frozenset[str] = frozenset()) -> None:
        self.headings: list[_Heading] = []
        pos = 0
        for page in pages:
            offset, previous = 0, ""
            for line in page.text.splitlines(keepends=True):
                text = " ".join(line.split())
                if text and text.lower() not in running and is_heading(text, previous):
                    self.headings.append(_Heading(pos + offset, text, is_numbered(text)))
                offset += len(line)
                previous = text or previous
            pos += len(page.text) + len(joiner)
        self._positions = [h.position for h in self.headings]

    def context(self, position: int) -> str:
        """The headings a text starting at ``position`` sits under: the section's numbered
        heading, then the nearest heading after it ("Note 9 : Acquisitions and Divestitures >
        Divestitures"); empty before the first heading."""
        index = bisect_right(self._positions, position) - 1
        if index < 0:
            return ""
        nearest = self.headings[index]
        if nearest.numbered:
            return nearest.text
        section = next((h for h in reversed(self.headings[:index]) if h.numbered), None)
        return f"{section.text} > {nearest.text}" if section else nearest.text


def rewrite(src: Path, dst: Path, mode: str) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    (dst / "vectors.faiss").unlink(missing_ok=True)  # rebuilt from the stored vectors on open
    db = sqlite3.connect(dst / "library.sqlite3")
    rows: list[tuple[int, str, str]] = []
    for (doc_id,) in db.execute("SELECT id FROM documents WHERE status = 'indexed'").fetchall():
        pages = [Page(n, t) for n, t in db.execute(
            "SELECT number, text FROM pages WHERE doc_id = ? ORDER BY number", (doc_id,))]
        sections = SectionMap(pages, "\n\n", frozenset(running_lines([p.text for p in pages])))
        starts, pos = {}, 0
        for p in pages:
            starts[p.number], pos = pos, pos + len(p.text) + 2
        for cid, text, page, offset in db.execute(
                "SELECT id, text, page_start, start_offset FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,)):
            rows.append((cid, sections.context(starts[page] + offset), text))
    searched = [(cid, f"{context}\n{text}" if context else text) for cid, context, text in rows]
    if mode in ("both", "embed"):
        embedder = make_embedder(load_settings())
        for i in range(0, len(searched), 256):
            part = searched[i:i + 256]
            vectors = embedder.embed([t for _, t in part]).astype(np.float32)
            db.executemany("UPDATE chunks SET vector = ? WHERE id = ?",
                           [(v.tobytes(), cid) for v, (cid, _) in zip(vectors, part)])
    if mode in ("both", "fts"):
        db.executescript("DROP TRIGGER IF EXISTS chunks_ai; DROP TRIGGER IF EXISTS chunks_ad; DROP TABLE chunks_fts;"
                         "CREATE VIRTUAL TABLE chunks_fts USING fts5(text, tokenize='porter unicode61');")
        db.executemany("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", searched)
    db.commit()
    db.close()
    print(f"{len(rows)} chunks rewritten ({mode}) in {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("fts", "embed", "both"):
        sys.exit(__doc__.rsplit("Usage: ", 1)[1])
    rewrite(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
