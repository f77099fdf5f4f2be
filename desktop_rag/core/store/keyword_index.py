"""Keyword search over the FTS5 table of chunk text, kept fast in large libraries.

FTS5 ranks by BM25 only after scoring every match, so the cost of a query is the number of
passages it matches. Three things bound it (figures at 100,000 chunks on this machine):

- words in half the passages or more are left out of queries by the retriever: FTS5's BM25 gives
  them no weight (its IDF is clamped at zero there), so leaving them out changes no ranking, and a
  question made only of such words is asked as an AND of its rarest ones. Words in fewer passages
  stay: leaving out words in 2,000+ passages (this rule until 2026-11) took a 6-word OR from
  127 ms to 2 ms, but in a library where 2,000 passages is 5-10% of it, it dropped the very words
  that find the page ("revenue", "net", "sales"): on the SEC yardstick, simulating that share
  cost 11-22 points of page hit@5. Hybrid search at 100,000 chunks keeps a p95 under 150 ms;
- a search within some documents asks FTS5 for the rowid ranges of those documents (3.5 ms)
  instead of joining every match to its document (250 ms);
- a map from chunk id to document id, read once per library change, answers "which documents
  hold this word" without reading the chunks table.
"""

from __future__ import annotations

import sqlite3
from typing import Sequence

import numpy as np

COMMON_TERM_CHUNKS = 2000  # word statistics read at most this many passages per word
COMMON_TERM_SHARE = 0.5  # a word in this share of the passages or more carries no BM25 weight
MAX_RANGES = 16  # more id ranges than this (a very fragmented library): one join instead


class KeywordIndex:
    """BM25 search and word statistics over ``chunks_fts``; caches follow the library's changes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._version = -1
        self._counts: dict[str, dict[int, int]] = {}
        self._totals: dict[str, int] = {}
        self._map: tuple[np.ndarray, np.ndarray] | None = None

    def invalidate(self) -> None:
        """Forget cached statistics (this connection changed the library)."""
        self._counts.clear()
        self._totals.clear()
        self._map = None

    def _fresh(self) -> None:
        """Drop the caches when another connection has committed since they were filled."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version or len(self._counts) + len(self._totals) > 8192:
            self.invalidate()
            self._version = version

    def chunk_documents(self) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids ascending, their document ids), read from the doc_id index."""
        self._fresh()
        return self._chunk_documents()

    def _chunk_documents(self) -> tuple[np.ndarray, np.ndarray]:
        if self._map is None:
            # the doc_id index covers both columns: the wide chunk rows (text, vector) are not read
            rows = self._db.execute("SELECT id, doc_id FROM chunks INDEXED BY chunks_doc").fetchall()
            pairs = np.array(rows, dtype=np.int64).reshape(-1, 2)
            order = np.argsort(pairs[:, 0], kind="stable")
            self._map = (pairs[order, 0], pairs[order, 1])
        return self._map

    def chunk_ids_of(self, doc_ids: Sequence[int]) -> np.ndarray:
        return self.chunk_documents()[0][self._positions_of(doc_ids)]

    def _positions_of(self, doc_ids: Sequence[int]) -> np.ndarray:
        """Where these documents' chunks sit in ``chunk_documents()``, ascending."""
        return np.flatnonzero(np.isin(self.chunk_documents()[1], np.asarray(doc_ids, dtype=np.int64)))

    def term_chunks(self, term: str) -> int:
        """How many passages contain the word (stemmed, as FTS5 matches it)."""
        seen = sum(self.term_document_counts(term).values())
        if seen < COMMON_TERM_CHUNKS:  # the capped read saw every match
            return seen
        if term not in self._totals:
            self._totals[term] = int(self._db.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{term}"',)).fetchone()[0])
        return self._totals[term]

    def is_common(self, term: str) -> bool:
        """Whether the word is in so many passages (COMMON_TERM_SHARE) that BM25 gives it no weight."""
        total = len(self.chunk_documents()[0])
        return total > 0 and self.term_chunks(term) >= COMMON_TERM_SHARE * total

    def term_document_counts(self, term: str) -> dict[int, int]:
        """{document id: passages containing the word}, over the word's first COMMON_TERM_CHUNKS
        passages (a word in more passages names no document)."""
        self._fresh()
        if term not in self._counts:
            rows = self._db.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?",
                                    (f'"{term}"', COMMON_TERM_CHUNKS)).fetchall()
            ids, docs = self._chunk_documents()
            found = np.array([r[0] for r in rows], dtype=np.int64)
            where = np.clip(np.searchsorted(ids, found), 0, max(len(ids) - 1, 0))
            owners = docs[where[ids[where] == found]] if len(ids) else np.empty(0, dtype=np.int64)
            values, counts = np.unique(owners, return_counts=True)
            self._counts[term] = {int(d): int(c) for d, c in zip(values, counts)}
        return self._counts[term]

    def counted_in_full(self, term: str) -> bool:
        """Whether :meth:`term_document_counts` read every passage holding the word: only then does a
        document missing from its counts not say it ("may" seemed missing from the books indexed last)."""
        return sum(self.term_document_counts(term).values()) < COMMON_TERM_CHUNKS

    def has_match(self, match: str, doc_ids: Sequence[int] | None = None) -> bool:
        """Whether any passage (of these documents, if given) matches: no BM25 scoring."""
        if not doc_ids:
            return self._db.execute("SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1",
                                    (match,)).fetchone() is not None
        return any(self._db.execute("SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid BETWEEN ? AND ? "
                                    "LIMIT 1", (match, low, high)).fetchone() is not None
                   for low, high in self._id_ranges(doc_ids))

    def search(self, match: str, k: int, doc_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over chunk text, optionally within some documents; higher score = better.

        ``match`` is an FTS5 query expression.
        """
        if not match or k <= 0:
            return []
        if not doc_ids:
            return self._ranked("", (match, k))
        ranges = self._id_ranges(doc_ids)
        if len(ranges) > MAX_RANGES:  # a join looks each match's document up by primary key
            rows = self._db.execute(
                "SELECT f.rowid, bm25(chunks_fts) FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
                f"WHERE chunks_fts MATCH ? AND c.doc_id IN ({','.join('?' * len(doc_ids))}) "
                "ORDER BY bm25(chunks_fts) LIMIT ?", (match, *doc_ids, k)).fetchall()
            return [(int(r[0]), -float(r[1])) for r in rows]
        found: list[tuple[int, float]] = []
        for low, high in ranges:  # BM25 statistics are the whole table's, so scores compare across ranges
            found += self._ranked("AND rowid BETWEEN ? AND ?", (match, low, high, k))
        return sorted(found, key=lambda hit: hit[1], reverse=True)[:k]

    def _ranked(self, condition: str, args: tuple[object, ...]) -> list[tuple[int, float]]:
        rows = self._db.execute(
            f"SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? {condition} "
            "ORDER BY bm25(chunks_fts) LIMIT ?", args).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _id_ranges(self, doc_ids: Sequence[int]) -> list[tuple[int, int]]:
        """The chunk ids of these documents as runs of consecutive table rows, (first, last) each.

        A document's chunks are written in one transaction, so each document is usually one run.
        """
        ids = self.chunk_documents()[0]
        where = self._positions_of(doc_ids)
        if not len(where):
            return []
        breaks = np.flatnonzero(np.diff(where) > 1)
        starts = np.r_[where[0], where[breaks + 1]]
        ends = np.r_[where[breaks], where[-1]]
        return [(int(ids[s]), int(ids[e])) for s, e in zip(starts, ends)]
