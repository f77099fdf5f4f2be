"""Collections: named sets of the library's documents (a folder added together becomes one; a
document may be in several). They live in the library's database, so removing a document removes
it from its collections (its membership rows go with it, ``ON DELETE CASCADE``) and deleting a
collection never touches its documents. A file indexed again (changed on disk) keeps its
collections (see :meth:`Collections.carry_over`).

Names are trimmed (runs of white space become one space), 1 to :data:`MAX_NAME_CHARS` characters,
and unique without regard to case: "Reports" and "reports" are the same collection.
"""

from __future__ import annotations

import difflib
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from desktop_rag.core.store.schema import path_to_db
from desktop_rag.errors import CollectionError

MAX_NAME_CHARS = 100
MAX_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """One collection and the ids of its documents (indexed or not), in id order."""

    id: int
    name: str
    created_at: float
    doc_ids: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return len(self.doc_ids)


def clean_name(name: str) -> str:
    """The name as it is stored; :class:`CollectionError` when it is empty or too long."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise CollectionError("a collection needs a name")
    if len(cleaned) > MAX_NAME_CHARS:
        raise CollectionError(f"a collection name has at most {MAX_NAME_CHARS} characters "
                              f"(this one has {len(cleaned)})")
    return cleaned


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _folded(name: str) -> str:
    """A name as near matches compare it: case aside, without a ``.pdf`` every file name shares."""
    folded = " ".join(name.split()).casefold()
    return folded[:-4] if folded.endswith(".pdf") else folded


def near_names(name: str, names: Iterable[str], n: int = MAX_SUGGESTIONS) -> list[str]:
    """The ``names`` closest to ``name`` (collection or file names), best first."""
    by_folded: dict[str, str] = {}
    for candidate in names:
        by_folded.setdefault(_folded(candidate), candidate)
    found = difflib.get_close_matches(_folded(name), list(by_folded), n=n, cutoff=0.6)
    return [by_folded[f] for f in found]


def check_new_name(name: str, existing: Iterable[CollectionInfo], renaming: int | None = None) -> str:
    """``name`` cleaned, if no other collection has it (the one being renamed, ``renaming``, may)."""
    cleaned = clean_name(name)
    for other in existing:
        if other.id != renaming and same_name(other.name, cleaned):
            raise CollectionError(f"a collection named {other.name!r} already exists")
    return cleaned


class Collections:
    """The collections of one library connection. ``writing`` opens a write transaction that
    turns SQLite errors into :class:`~desktop_rag.errors.StoreWriteError`."""

    def __init__(self, db: sqlite3.Connection, writing: Callable[[], AbstractContextManager[None]]) -> None:
        self._db = db
        self._writing = writing

    # ---------------------------------------------------------- reading

    def all(self) -> list[CollectionInfo]:
        """Every collection with its documents, by name (case aside)."""
        members: dict[int, list[int]] = {}
        for collection_id, doc_id in self._db.execute(
                "SELECT collection_id, doc_id FROM collection_documents ORDER BY collection_id, doc_id"):
            members.setdefault(collection_id, []).append(doc_id)
        rows = self._db.execute("SELECT id, name, created_at FROM collections ORDER BY name COLLATE NOCASE, id")
        return [CollectionInfo(i, name, created, tuple(members.get(i, ()))) for i, name, created in rows]

    def get(self, collection_id: int) -> CollectionInfo | None:
        row = self._db.execute("SELECT id, name, created_at FROM collections WHERE id=?", (collection_id,)).fetchone()
        return None if row is None else CollectionInfo(*row, tuple(self.members(collection_id)))

    def named(self, name: str) -> CollectionInfo | None:
        """The collection called ``name`` (case aside), or None."""
        return next((c for c in self.all() if same_name(c.name, name)), None)

    def find(self, name: str) -> CollectionInfo:
        """The collection called ``name``; :class:`CollectionError` naming the nearest ones if none is."""
        everything = self.all()
        found = next((c for c in everything if same_name(c.name, name)), None)
        if found is not None:
            return found
        near = near_names(name, [c.name for c in everything])
        hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
        raise CollectionError(f"there is no collection named {name!r}{hint}")

    def members(self, collection_id: int) -> list[int]:
        rows = self._db.execute("SELECT doc_id FROM collection_documents WHERE collection_id=? ORDER BY doc_id",
                                (collection_id,))
        return [r[0] for r in rows]

    def of_document(self, doc_id: int) -> list[str]:
        """The names of the collections a document is in."""
        rows = self._db.execute("SELECT c.name FROM collections c JOIN collection_documents m ON m.collection_id = "
                                "c.id WHERE m.doc_id=? ORDER BY c.name COLLATE NOCASE", (doc_id,))
        return [r[0] for r in rows]

    def names_by_document(self) -> dict[int, list[str]]:
        """{doc id: names of its collections} for every document in at least one."""
        out: dict[int, list[str]] = {}
        for doc_id, name in self._db.execute(
                "SELECT m.doc_id, c.name FROM collection_documents m JOIN collections c ON c.id = m.collection_id "
                "ORDER BY c.name COLLATE NOCASE"):
            out.setdefault(doc_id, []).append(name)
        return out

    # ---------------------------------------------------------- writing (one transaction each)

    def create(self, name: str, doc_ids: Sequence[int] = ()) -> CollectionInfo:
        """A new collection holding ``doc_ids``; :class:`CollectionError` if the name is taken or bad."""
        with self._writing():
            cleaned = check_new_name(name, self._names())
            cur = self._db.execute("INSERT INTO collections(name, created_at) VALUES (?, ?)", (cleaned, time.time()))
            collection_id = int(cur.lastrowid)
            self._insert(collection_id, doc_ids)
        return self._existing(collection_id)

    def ensure(self, name: str) -> CollectionInfo:
        """The collection called ``name``, created (empty) if there is none."""
        with self._writing():
            cleaned = clean_name(name)
            found = next((c for c in self._names() if same_name(c.name, cleaned)), None)
            if found is None:
                cur = self._db.execute("INSERT INTO collections(name, created_at) VALUES (?, ?)",
                                       (cleaned, time.time()))
                collection_id = int(cur.lastrowid)
            else:
                collection_id = found.id
        return self._existing(collection_id)

    def rename(self, collection_id: int, new_name: str) -> CollectionInfo:
        with self._writing():
            self._existing(collection_id)
            cleaned = check_new_name(new_name, self._names(), renaming=collection_id)
            self._db.execute("UPDATE collections SET name=? WHERE id=?", (cleaned, collection_id))
        return self._existing(collection_id)

    def delete(self, collection_id: int) -> None:
        """Forget the collection; its documents stay in the library."""
        with self._writing():
            self._db.execute("DELETE FROM collections WHERE id=?", (collection_id,))

    def add(self, collection_id: int, doc_ids: Sequence[int]) -> int:
        """Put documents in the collection; returns how many were not in it already. Ids of
        documents the library does not hold (any more) are ignored."""
        with self._writing():
            self._existing(collection_id)
            return self._insert(collection_id, doc_ids)

    def remove(self, collection_id: int, doc_ids: Sequence[int]) -> int:
        """Take documents out of the collection (not out of the library); returns how many were in it."""
        with self._writing():
            self._existing(collection_id)
            cur = self._db.executemany("DELETE FROM collection_documents WHERE collection_id=? AND doc_id=?",
                                       [(collection_id, d) for d in dict.fromkeys(doc_ids)])
            return max(cur.rowcount, 0)

    # ---------------------------------------------------------- inside the store's own transactions

    def carry_over(self, new_doc_id: int, collection_ids: Sequence[int]) -> None:
        """A re-indexed document (a new row replacing the old one, whose memberships went with it)
        stays in the collections the old one was in, ``collection_ids`` (read by :meth:`ids_of_path`
        before). Runs inside the caller's transaction."""
        self._db.executemany("INSERT OR IGNORE INTO collection_documents(collection_id, doc_id) VALUES (?, ?)",
                             [(c, new_doc_id) for c in collection_ids])

    def ids_of_path(self, path: str) -> list[int]:
        """The collections of the document stored at ``path`` (none if there is none)."""
        rows = self._db.execute("SELECT m.collection_id FROM collection_documents m JOIN documents d ON "
                                "d.id = m.doc_id WHERE d.path=?", (path_to_db(path),))
        return [r[0] for r in rows]

    # ---------------------------------------------------------- helpers

    def _names(self) -> list[CollectionInfo]:
        return [CollectionInfo(i, n, t) for i, n, t in self._db.execute("SELECT id, name, created_at FROM collections")]

    def _existing(self, collection_id: int) -> CollectionInfo:
        found = self.get(collection_id)
        if found is None:
            raise CollectionError("that collection no longer exists (it was deleted)")
        return found

    def _insert(self, collection_id: int, doc_ids: Sequence[int]) -> int:
        wanted = list(dict.fromkeys(int(d) for d in doc_ids))
        if not wanted:
            return 0
        marks = ",".join("?" * len(wanted))
        cur = self._db.execute(
            "INSERT OR IGNORE INTO collection_documents(collection_id, doc_id) "
            f"SELECT ?, id FROM documents WHERE id IN ({marks})", [collection_id, *wanted])
        return max(cur.rowcount, 0)
