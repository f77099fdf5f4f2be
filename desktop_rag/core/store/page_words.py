"""Where the words of pages read by OCR lie on the page: one row per such page, its boxes as JSON.

A page has a row here exactly when its text was read by OCR (its boxes may be an empty list when OCR
found no word on it); the preview highlights a passage on such a page from these boxes, as it does
from pdfium's character boxes on a page with a text layer. Rows go with their document (ON DELETE
CASCADE), so removing or replacing a document needs nothing here.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Sequence

from desktop_rag.core.types import Page, WordBox


class PageWords:
    """Reads and writes the ``page_words`` table on the store's connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def insert(self, doc_id: int, pages: Sequence[Page]) -> None:
        """The boxes of the pages read by OCR (inside the caller's transaction)."""
        rows = [(doc_id, p.number, json.dumps(p.ocr_words, separators=(",", ":")))
                for p in pages if p.ocr_words is not None]
        if rows:
            self._db.executemany("INSERT INTO page_words(doc_id, number, words) VALUES (?, ?, ?)", rows)

    def of(self, doc_id: int, number: int) -> tuple[WordBox, ...] | None:
        """The word boxes of a page read by OCR; None for a page with a text layer (or no such page)."""
        row = self._db.execute("SELECT words FROM page_words WHERE doc_id=? AND number=?", (doc_id, number)).fetchone()
        return None if row is None else tuple(tuple(box) for box in json.loads(row[0]))  # type: ignore[misc]

    def numbers(self, doc_id: int) -> list[int]:
        """The numbers of the document's pages read by OCR, in order."""
        rows = self._db.execute("SELECT number FROM page_words WHERE doc_id=? ORDER BY number", (doc_id,))
        return [int(r[0]) for r in rows]
