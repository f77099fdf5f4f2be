"""The FAISS cache over the vectors stored in SQLite.

Inner product over L2-normalized vectors (= cosine), ids = chunk row ids. The file is written to a
temporary name and moved into place with ``os.replace``, so a crash leaves the old file or the new
one, never half of one. Whether it still matches SQLite is decided by an id checksum that both
sides compute the same way (chunk ids come from AUTOINCREMENT and are never reused).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

log = logging.getLogger(__name__)

CHECK_MULT = 2654435761
CHECK_MOD = 4294967291
CHECKSUM_SQL = f"SELECT count(*), coalesce(sum((id * {CHECK_MULT}) % {CHECK_MOD}), 0) FROM chunks INDEXED BY chunks_doc"


def ids_checksum(ids: np.ndarray) -> tuple[int, int]:
    """(count, checksum) of chunk ids; the same formula as ``CHECKSUM_SQL``."""
    ids = ids.astype(np.int64)
    return int(len(ids)), int(((ids * CHECK_MULT) % CHECK_MOD).sum())


class VectorCache:
    """One FAISS index file and its in-memory copy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index = None
        self.dirty = False

    @property
    def checksum(self) -> tuple[int, int] | None:
        if self.index is None:
            return None
        import faiss

        ids = faiss.vector_to_array(self.index.id_map) if self.index.ntotal else np.zeros(0, np.int64)
        return ids_checksum(ids)

    def load(self, expected: tuple[int, int]) -> bool:
        """Read the file if it matches ``expected``; False means: rebuild from SQLite."""
        import faiss

        if not self.path.exists():
            return False
        try:
            self.index = faiss.read_index(str(self.path))
        except RuntimeError as exc:
            log.warning("vector index %s unreadable (%s); rebuilding from SQLite", self.path, exc)
            self.index = None
            return False
        if self.checksum != expected:
            log.info("vector index out of date with the library; rebuilding from SQLite")
            self.index = None
            return False
        return True

    def rebuild(self, dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
        """A fresh index from (ids, vectors) batches."""
        import faiss

        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        for ids, vectors in batches:
            self.index.add_with_ids(vectors, ids)
        self.dirty = True

    def update(self, remove: Sequence[int] = (), add_ids: Sequence[int] = (),
               add_vectors: np.ndarray | None = None) -> None:
        if self.index is None:
            return  # loaded (and checked against SQLite) on first use
        if remove:
            self.index.remove_ids(np.asarray(remove, dtype=np.int64))
        if len(add_ids) and add_vectors is not None:
            self.index.add_with_ids(add_vectors, np.asarray(add_ids, dtype=np.int64))
        self.dirty = True

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        import faiss

        if self.index is None or self.index.ntotal == 0:
            return []
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params = None if allowed_ids is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed_ids))
        scores, ids = self.index.search(q, min(k, self.index.ntotal), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def save(self) -> None:
        """Write atomically; a failure only costs a rebuild later."""
        import faiss

        if self.index is None:
            self.dirty = False
            return
        tmp = self.path.with_suffix(".faiss.tmp")
        try:
            faiss.write_index(self.index, str(tmp))
            os.replace(tmp, self.path)
            self.dirty = False
        except (RuntimeError, OSError) as exc:
            log.warning("could not save the vector index (%s); it will be rebuilt from SQLite", exc)
            tmp.unlink(missing_ok=True)
