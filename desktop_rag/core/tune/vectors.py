"""A second set of vectors for the library, made while the first keeps serving, switched in one transaction.

Re-embedding writes the new vectors into ``tune_staged_vectors`` (committed in batches, so a long
run loses little when killed, and searches go on with the vectors in ``chunks``). :meth:`VectorSets.switch`
then, in one ``BEGIN IMMEDIATE`` transaction, embeds any chunk added meanwhile, keeps the vectors
being replaced in ``tune_original_vectors`` (when asked: the first tuning keeps the original model's,
so returning to it needs no re-embedding of what they cover), copies the staged vectors into
``chunks``, and writes the model id and the tuned-model record in ``meta``. The FAISS file is a cache
keyed by chunk ids only, which a switch leaves as they were, so it is deleted inside the
transaction: a kill before COMMIT leaves the old vectors (the cache is rebuilt from them), a kill
after leaves the new ones. SQLite's journal makes the rest all or nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from desktop_rag.core.store.schema import path_from_db
from desktop_rag.errors import StoreWriteError

STAGED, ORIGINAL = "tune_staged_vectors", "tune_original_vectors"
BATCH = 64

EmbedTexts = Callable[[Sequence[str]], np.ndarray]


def _create(table: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table}(id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, "
            "vector BLOB NOT NULL)")


class VectorSets:
    """Staged and kept vectors of one library (its own connection to the library's database)."""

    def __init__(self, db_path: Path, index_path: Path) -> None:
        self.db_path, self.index_path = db_path, index_path
        self._db = sqlite3.connect(str(db_path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("PRAGMA synchronous=FULL")
        self._write(lambda: [self._db.execute(_create(t)) for t in (STAGED, ORIGINAL)])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "VectorSets":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, work: Callable[[], object]) -> None:
        """``work`` in one write transaction; a failure to write (a full disk) is a StoreWriteError
        and leaves the library as it was."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                work()
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreWriteError(f"cannot write the new vectors into {self.db_path}: {exc}. The library "
                                  "keeps its current vectors; free some space and try again.") from exc

    # ------------------------------------------------------------------ staging

    def clear_staged(self) -> None:
        self._write(lambda: self._db.execute(f"DELETE FROM {STAGED}"))

    def chunk_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def staged_count(self) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM {STAGED} WHERE id IN (SELECT id FROM chunks)").fetchone()[0])

    def unstaged(self, batch: int = BATCH) -> Iterator[tuple[list[int], list[str]]]:
        """(ids, texts) of the chunks without a staged vector, in batches (read before any is staged)."""
        rows = self._db.execute(f"SELECT id, text FROM chunks WHERE id NOT IN (SELECT id FROM {STAGED}) "
                                "ORDER BY id").fetchall()
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            yield [int(r[0]) for r in part], [r[1] for r in part]

    def stage(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        self._write(lambda: self._stage_rows(ids, vectors))

    def _stage_rows(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._db.executemany(f"INSERT OR REPLACE INTO {STAGED}(id, vector) SELECT ?, ? WHERE EXISTS "
                             "(SELECT 1 FROM chunks WHERE id=?)",
                             [(int(i), vectors[n].tobytes(), int(i)) for n, i in enumerate(ids)])

    def stage_kept(self) -> int:
        """Stage the kept original vectors of the chunks that still exist; returns how many."""
        self._write(lambda: self._db.execute(
            f"INSERT OR REPLACE INTO {STAGED}(id, vector) SELECT o.id, o.vector FROM {ORIGINAL} o "
            "JOIN chunks c ON c.id = o.id"))
        return self.staged_count()

    def kept_count(self) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM {ORIGINAL}").fetchone()[0])

    # ------------------------------------------------------------------ reading

    def matrix(self, staged: bool) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every chunk: the staged vectors, or those in use."""
        sql = (f"SELECT c.id, s.vector FROM chunks c JOIN {STAGED} s ON s.id = c.id ORDER BY c.id" if staged
               else "SELECT id, vector FROM chunks ORDER BY id")
        rows = self._db.execute(sql).fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        dim = len(rows[0][1]) // 4
        return ids, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)

    # ------------------------------------------------------------------ switching

    def switch(self, model_id: str, meta: dict[str, str | None], embed: EmbedTexts, *,
               keep_current: bool, drop_kept: bool) -> None:
        """Make the staged vectors the library's, in one transaction (see the module docstring).
        ``meta``: keys to set (None: delete). ``embed`` makes the vectors of chunks added since staging."""
        self._write(lambda: self._switch(model_id, meta, embed, keep_current, drop_kept))

    def _switch(self, model_id: str, meta: dict[str, str | None], embed: EmbedTexts,
                keep_current: bool, drop_kept: bool) -> None:
        for ids, texts in self.unstaged():  # ingested while re-embedding: the write lock is ours now
            self._stage_rows(ids, embed(texts))
        db = self._db
        if keep_current:
            db.execute(f"INSERT OR REPLACE INTO {ORIGINAL}(id, vector) SELECT id, vector FROM chunks")
        db.execute(f"UPDATE chunks SET vector = (SELECT s.vector FROM {STAGED} s WHERE s.id = chunks.id)")
        dim = db.execute(f"SELECT length(vector) / 4 FROM {STAGED} LIMIT 1").fetchone()
        values = {"embed_model": model_id, **({"embed_dim": str(dim[0])} if dim else {}), **meta}
        for key, value in values.items():
            if value is None:
                db.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        db.execute(f"DELETE FROM {STAGED}")
        if drop_kept:
            db.execute(f"DELETE FROM {ORIGINAL}")
        with contextlib.suppress(FileNotFoundError):
            self.index_path.unlink()  # a cache of the old vectors under the same ids: rebuilt from SQLite

    def locations(self) -> dict[int, tuple[str, int, int]]:
        """{chunk id: (its document's path, first page, last page)} for every chunk."""
        rows = self._db.execute("SELECT c.id, d.path, c.page_start, c.page_end FROM chunks c "
                                "JOIN documents d ON d.id = c.doc_id").fetchall()
        return {int(r[0]): (path_from_db(r[1]), int(r[2]), int(r[3])) for r in rows}
