"""The local index: SQLite is the source of truth, FAISS a rebuildable cache.

SQLite (WAL, ``synchronous=FULL``) holds documents, page texts, chunks with their vectors, and an
FTS5 table over chunk text for keyword search. A document is written in one transaction, so it
is either fully present or absent whatever happens to the process. FAISS (inner product over
normalized vectors, ids = chunk row ids) is kept in memory, saved atomically with ``os.replace``,
and rebuilt from SQLite whenever its id count or checksum disagrees with the chunks table.
Chunk ids come from AUTOINCREMENT and are never reused, so an id checksum identifies the content.
A library whose folder cannot be written opens for reading only (:mod:`.opening`): it is listed and
searched as usual, and every change is refused.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from desktop_rag.core.filenames import display_name, display_text
from desktop_rag.core.store.collections import Collections
from desktop_rag.core.store.derived import DerivedFacts
from desktop_rag.core.store.keyword_index import KeywordIndex
from desktop_rag.core.store.opening import can_write, connect, write_error
from desktop_rag.core.store.page_words import PageWords
from desktop_rag.core.store.schema import (DOC_COLUMNS, Transaction, adapt_for_reading, create_or_migrate, path_from_db,
                                           path_to_db)
from desktop_rag.core.store.vector_index import CHECKSUM_SQL, VectorCache
from desktop_rag.core.store.watched import WatchedFolders
from desktop_rag.core.types import Chunk, DocumentInfo, DocumentProfile, DocumentStatus, Page
from desktop_rag.errors import StoreError, StoreIncompatibleError

log = logging.getLogger(__name__)

DB_NAME = "library.sqlite3"
INDEX_NAME = "vectors.faiss"
ID_BATCH = 10_000  # chunk ids per query (SQLite allows 32,766 parameters)
INDEXED, FAILED = DocumentStatus.INDEXED.value, DocumentStatus.FAILED.value  # as SQL parameters


def _chunk_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    named = {column[0]: value for column, value in zip(cursor.description, row)}
    named["path"] = path_from_db(named["path"])
    return named


class Store:
    """Documents, chunks, vectors and keyword index under one data directory."""

    def __init__(self, data_dir: str | os.PathLike[str], *, read_only: bool | None = None) -> None:
        """Open the library in ``data_dir``: for reading only when ``read_only``; when it is None (the
        default), for writing if the folder may be written, else for reading only (see ``read_only``
        after opening). ``read_only=False`` on a folder that cannot be written is a StoreWriteError."""
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / DB_NAME
        self.index_path = self.data_dir / INDEX_NAME
        self.read_only = not can_write(self.data_dir, self.db_path, read_only)
        try:
            self._db = connect(self.db_path, not self.read_only)
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._prepare()
        except sqlite3.DatabaseError as exc:
            if not self.read_only and any(w in str(exc).lower() for w in ("readonly", "unable to open")):
                raise write_error(self.data_dir, exc, self.db_path) from exc
            raise StoreError(f"the library {self.db_path} cannot be opened: {exc}") from exc
        self._vectors = VectorCache(self.index_path)
        self._data_version = -1
        self.keywords = KeywordIndex(self._db)
        self.facts = DerivedFacts(self._db)
        self.collections = Collections(self._db, self._writing)
        self.page_words = PageWords(self._db)  # the word boxes of pages read by OCR
        self.watched = WatchedFolders(self._db, self._writing)

    def _prepare(self) -> None:
        if self.read_only:
            adapt_for_reading(self._db)  # before query_only, which forbids even TEMP tables
            self._db.execute("PRAGMA query_only=ON")
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        create_or_migrate(self._db)

    def require_writable(self) -> None:
        """Refuse, before any work, a change to a library opened for reading only."""
        if self.read_only:
            raise write_error(self.data_dir)

    # ---------------------------------------------------------- lifecycle

    def close(self) -> None:
        if self._vectors.dirty and not self.read_only:
            self._vectors.save()
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------- meta

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def check_embedder(self, model_id: str, dimension: int) -> None:
        """Refuse to mix vectors of two embedding models in one library."""
        stored_model, stored_dim = self.meta("embed_model"), self.meta("embed_dim")
        if stored_model is None or not self.has_chunks():
            return
        if stored_model != model_id or int(stored_dim or 0) != dimension:
            raise StoreIncompatibleError(
                f"this library was indexed with the embedding model {stored_model!r} ({stored_dim} dims); "
                f"the current model is {model_id!r} ({dimension} dims). Re-index your documents, "
                "choose another data folder, or switch the embedding model back."
            )

    # ---------------------------------------------------------- documents

    def _docs(self, where: str = "", args: Sequence[object] = ()) -> list[DocumentInfo]:
        rows = self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents {where}", args).fetchall()
        return [DocumentInfo(row[0], path_from_db(row[1]), *row[2:8], DocumentStatus(row[8]), *row[9:])
                for row in rows]

    def documents(self) -> list[DocumentInfo]:
        return self._docs("ORDER BY name COLLATE NOCASE, id")

    def document(self, doc_id: int) -> DocumentInfo | None:
        found = self._docs("WHERE id=?", (doc_id,))
        return found[0] if found else None

    def document_by_path(self, path: str) -> DocumentInfo | None:
        found = self._docs("WHERE path=?", (path_to_db(path),))
        return found[0] if found else None

    def indexed_by_hash(self, sha256: str) -> DocumentInfo | None:
        found = self._docs("WHERE sha256=? AND status=? LIMIT 1", (sha256, INDEXED))
        return found[0] if found else None

    def has_chunks(self) -> bool:
        return self._db.execute("SELECT EXISTS (SELECT 1 FROM chunks)").fetchone()[0] == 1

    def stats(self) -> dict[str, int]:
        """Counts from the documents table alone (each row keeps its page and chunk counts)."""
        docs, pages, chunks, failed = self._db.execute(
            "SELECT count(*) FILTER (WHERE status=?1), "
            "coalesce(sum(page_count) FILTER (WHERE status=?1), 0), "
            "coalesce(sum(chunk_count) FILTER (WHERE status=?1), 0), "
            "count(*) FILTER (WHERE status=?2) FROM documents",
            (INDEXED, FAILED),
        ).fetchone()
        return {"documents": docs, "pages": pages, "chunks": chunks, "failed": failed}

    def add_document(
        self,
        *,
        path: str,
        sha256: str,
        size: int,
        mtime: float,
        pages: Sequence[Page],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        model_id: str,
        title: str = "",
    ) -> int:
        """Insert (or replace the document at ``path``) in one transaction. Returns its id."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        try:
            with self._transaction():
                self.check_embedder(model_id, int(vectors.shape[1]))  # never mix two models' vectors
                kept_in = self.collections.ids_of_path(path)  # a changed file stays in its collections
                old_ids = self._delete_path(path)
                self._set_meta({"embed_model": model_id, "embed_dim": str(vectors.shape[1])})
                cur = self._db.execute(
                    "INSERT INTO documents(path, name, sha256, size, mtime, page_count, chunk_count, "
                    "status, added_at, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (path_to_db(path), display_name(path), sha256, size, mtime, len(pages), len(chunks), INDEXED,
                     time.time(), display_text(title)),
                )
                doc_id = int(cur.lastrowid)
                new_ids = self._insert_content(doc_id, pages, chunks, vectors)
                self.collections.carry_over(doc_id, kept_in)
        except sqlite3.DatabaseError as exc:
            raise write_error(self.data_dir, exc, self.db_path) from exc
        self._index_update(remove=old_ids, add_ids=new_ids, add_vectors=vectors)
        return doc_id

    def _insert_content(self, doc_id: int, pages: Sequence[Page], chunks: Sequence[Chunk],
                        vectors: np.ndarray) -> list[int]:
        """A new document's pages and chunks (inside the caller's transaction); the chunks' new ids."""
        self._db.executemany(
            "INSERT INTO pages(doc_id, number, text, label) VALUES (?, ?, ?, ?)",
            [(doc_id, p.number, p.text, p.label) for p in pages],
        )
        self.page_words.insert(doc_id, pages)
        self._db.executemany(
            "INSERT INTO chunks(doc_id, ordinal, text, page_start, page_end, start_offset, "
            "end_offset, token_count, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (doc_id, c.ordinal, c.text, c.page_start, c.page_end, c.start_offset,
                 c.end_offset, c.token_count, vectors[i].tobytes())
                for i, c in enumerate(chunks)
            ],
        )
        return [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id=? ORDER BY id", (doc_id,))]

    def record_failure(self, *, path: str, sha256: str, size: int, mtime: float, error: str) -> None:
        """Remember a failed file (so the user sees why) unless an indexed copy exists at that path."""
        existing = self.document_by_path(path)
        if existing is not None and existing.status == DocumentStatus.INDEXED:
            return
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT INTO documents(path, name, sha256, size, mtime, status, error, added_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                    "sha256=excluded.sha256, size=excluded.size, mtime=excluded.mtime, "
                    "error=excluded.error, added_at=excluded.added_at",
                    (path_to_db(path), display_name(path), sha256, size, mtime, FAILED, display_text(error),
                     time.time()),
                )
        except sqlite3.DatabaseError as exc:
            raise write_error(self.data_dir, exc, self.db_path) from exc

    def remove_document(self, doc_id: int) -> None:
        doc = self.document(doc_id)
        if doc is None:
            return
        try:
            with self._transaction():
                removed = self._delete_path(doc.path)
        except sqlite3.DatabaseError as exc:
            raise write_error(self.data_dir, exc, self.db_path) from exc
        self._index_update(remove=removed)

    def _delete_path(self, path: str) -> list[int]:
        row = self._db.execute("SELECT id FROM documents WHERE path=?", (path_to_db(path),)).fetchone()
        if row is None:
            return []
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id=?", (row[0],))]
        self._db.execute("DELETE FROM chunks WHERE doc_id=?", (row[0],))
        self._db.execute("DELETE FROM pages WHERE doc_id=?", (row[0],))
        self._db.execute("DELETE FROM documents WHERE id=?", (row[0],))
        return ids

    def _set_meta(self, values: dict[str, str]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def _transaction(self) -> Transaction:
        return Transaction(self._db)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction; a failure to write is a :class:`StoreWriteError`."""
        try:
            with self._transaction():
                yield
        except sqlite3.DatabaseError as exc:
            raise write_error(self.data_dir, exc, self.db_path) from exc

    # ---------------------------------------------------------- reading chunks and pages

    def chunk_rows(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """{chunk id: its row (id, doc_id, ordinal, text, page_start, page_end, start_offset, end_offset,
        its document's name and path, and the label of its first page)} for those of the chunks that exist."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cursor = self._db.cursor()
        cursor.row_factory = _chunk_row  # on this cursor only: the connection is shared by threads
        rows = cursor.execute(
            "SELECT c.id, c.doc_id, c.ordinal, c.text, c.page_start, c.page_end, c.start_offset, "
            "c.end_offset, d.name, d.path, coalesce(p.label, '') AS label FROM chunks c "
            "JOIN documents d ON d.id = c.doc_id LEFT JOIN pages p ON p.doc_id = c.doc_id AND p.number = c.page_start "
            f"WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
        return {row["id"]: row for row in rows}

    def chunk_vector_map(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """{chunk id: stored vector} for those of the given chunks that exist."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks})", list(ids)).fetchall()
        return {int(i): np.frombuffer(blob, dtype=np.float32) for i, blob in rows}

    def page_texts_of(self, doc_id: int) -> list[str]:
        """The text of every page of a document, in page order."""
        rows = self._db.execute("SELECT text FROM pages WHERE doc_id=? ORDER BY number", (doc_id,)).fetchall()
        return [r[0] for r in rows]

    def page_text(self, doc_id: int, number: int) -> str | None:
        row = self._db.execute("SELECT text FROM pages WHERE doc_id=? AND number=?", (doc_id, number)).fetchone()
        return row[0] if row else None

    def document_profiles(self, cover_chars: int) -> list[DocumentProfile]:
        """File name, title and the first ``cover_chars`` characters of the first page of each
        indexed document, for matching the names questions use."""
        rows = self._db.execute(
            "SELECT d.id, d.name, d.title, coalesce(substr(p.text, 1, ?), ''), d.chunk_count FROM documents d "
            "LEFT JOIN pages p ON p.doc_id = d.id AND p.number = 1 WHERE d.status=?", (cover_chars, INDEXED)
        ).fetchall()
        return [DocumentProfile(int(r[0]), r[1], r[2], r[3], int(r[4] or 0)) for r in rows]

    def page_starts(self, chunk_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """{chunk id: (doc id, first page)} for those of the chunks that exist (any number of them:
        read ID_BATCH at a time, as SQLite caps a query's parameters)."""
        rows: list = []
        for i in range(0, len(chunk_ids), ID_BATCH):
            batch = list(chunk_ids[i:i + ID_BATCH])
            rows += self._db.execute(f"SELECT id, doc_id, page_start FROM chunks WHERE id IN "
                                     f"({','.join('?' * len(batch))})", batch).fetchall()
        return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}

    def page_texts(self, pages: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """{(doc id, page): text} for those of the pages that exist, in one query."""
        wanted = list(set(pages))
        if not wanted:
            return {}
        values = ",".join("(?, ?)" * 1 for _ in wanted)
        rows = self._db.execute(
            f"SELECT doc_id, number, text FROM pages WHERE (doc_id, number) IN (VALUES {values})",
            [v for pair in wanted for v in pair]).fetchall()
        return {(int(r[0]), int(r[1])): r[2] for r in rows}

    def chunk_ids_of(self, doc_ids: Sequence[int]) -> np.ndarray:
        return self.keywords.chunk_ids_of(doc_ids)

    def keyword_search(self, match: str, k: int, doc_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """FTS5 BM25 over chunk text, optionally within some documents; higher score = better."""
        return self.keywords.search(match, k, doc_ids)

    # ---------------------------------------------------------- FAISS cache

    def load_index(self) -> None:
        """Load (or rebuild) the FAISS cache now so later writes update it incrementally."""
        self._ensure_index()

    def dense_search(self, query: np.ndarray, k: int, doc_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by inner product, optionally only within some documents."""
        self._ensure_index()
        return self._vectors.search(query, k, self.chunk_ids_of(doc_ids) if doc_ids else None)

    def _ensure_index(self) -> None:
        """Keep the FAISS cache equal to SQLite, also after commits by other connections."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._vectors.index is not None and version == self._data_version:
            return
        self._data_version = version
        expected = tuple(int(v) for v in self._db.execute(CHECKSUM_SQL).fetchone())
        if self._vectors.checksum == expected or self._vectors.load(expected):
            return
        self.rebuild_index()

    def rebuild_index(self) -> None:
        """Build the FAISS index from the vectors in SQLite and save it."""
        dim = int(self.meta("embed_dim") or 0)
        if dim == 0:
            return

        def batches():  # noqa: ANN202 - (ids, vectors) in batches of 8192
            cursor = self._db.execute("SELECT id, vector FROM chunks ORDER BY id")
            while batch := cursor.fetchmany(8192):
                ids = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
                yield ids, np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32).reshape(len(batch), dim)

        self._vectors.rebuild(dim, batches())
        if not self.read_only:  # read-only: the rebuilt index lives in memory only
            self._vectors.save()

    def _index_update(
        self, remove: Sequence[int] = (), add_ids: Sequence[int] = (), add_vectors: np.ndarray | None = None
    ) -> None:
        self.keywords.invalidate()
        self.facts.invalidate()
        self._vectors.update(remove, add_ids, add_vectors)

    def save_index(self) -> None:
        """Leave the FAISS file equal to SQLite, written atomically; a failure only costs a rebuild
        later. A file that already matches is not rewritten, and a rebuild saves itself."""
        if self.read_only:
            return
        if self._vectors.index is None:
            self._ensure_index()
        if self._vectors.dirty:
            self._vectors.save()

