"""The store: SQLite is the truth, FAISS a cache rebuilt when it disagrees; writes are all or nothing."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

import faiss
import pytest
from fakes import HashEmbedder
from read_only_paths import ReadOnly, read_only  # noqa: F401 - the fixture

from desktop_rag.core.ingest.chunking import chunk_pages
from desktop_rag.core.store.library import DB_NAME, INDEX_NAME, Store
from desktop_rag.core.types import DocumentStatus, Page
from desktop_rag.errors import StoreError, StoreIncompatibleError, StoreWriteError

EMB = HashEmbedder()


def doc_pages(word: str, pages: int = 2, sentences: int = 12) -> list[Page]:
    return [
        Page(n, " ".join(f"Page {n} of the {word} report, sentence {s}, covers {word} figures." for s in range(sentences)))
        for n in range(1, pages + 1)
    ]


def add(store: Store, path: str, word: str, embedder: HashEmbedder = EMB, **kw: int) -> int:
    pages = doc_pages(word, **kw)
    chunks = chunk_pages(pages, embedder.token_offsets, 40, 8)
    text = "".join(p.text for p in pages)
    return store.add_document(
        path=path, sha256=hashlib.sha256(text.encode()).hexdigest(), size=len(text), mtime=1.0,
        pages=pages, chunks=chunks, vectors=embedder.embed([c.text for c in chunks]), model_id=embedder.model_id,
    )


def rows(store: Store, sql: str, *args: object) -> int:
    return store._db.execute(sql, args).fetchone()[0]


def fts_hits(store: Store, word: str) -> int:
    return rows(store, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", word)


def chunk_ids(store: Store, doc_id: int | None = None) -> set[int]:
    where = "" if doc_id is None else f"WHERE doc_id={int(doc_id)}"
    return {r[0] for r in store._db.execute(f"SELECT id FROM chunks {where}")}


def faiss_ids(store: Store) -> set[int]:
    """Every id the FAISS cache holds, through the public search (k larger than the index)."""
    return {cid for cid, _ in store.dense_search(EMB.embed(["anything"])[0], 10**6)}


def faiss_file_ids(data_dir: Path) -> set[int]:
    index = faiss.read_index(str(data_dir / INDEX_NAME))
    return set(faiss.vector_to_array(index.id_map).tolist())


def top_doc(store: Store, query: str) -> str:
    [(cid, _)] = store.dense_search(EMB.embed([query])[0], 1)
    return store.chunk_rows([cid])[cid]["path"]


def assert_consistent(store: Store) -> None:
    store._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
    for doc in store.documents():
        assert rows(store, "SELECT count(*) FROM chunks WHERE doc_id=?", doc.id) == doc.chunk_count
        assert rows(store, "SELECT count(*) FROM pages WHERE doc_id=?", doc.id) == doc.page_count
    assert rows(store, "SELECT count(*) FROM chunks_fts") == rows(store, "SELECT count(*) FROM chunks")
    assert faiss_ids(store) == chunk_ids(store)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "lib") as s:
        yield s


def test_add_list_and_remove_leave_nothing_behind(store: Store) -> None:
    a = add(store, "/docs/apple.pdf", "apple", pages=3)
    b = add(store, "/docs/banana.pdf", "banana")
    docs = {d.path: d for d in store.documents()}
    assert set(docs) == {"/docs/apple.pdf", "/docs/banana.pdf"}
    assert (docs["/docs/apple.pdf"].name, docs["/docs/apple.pdf"].page_count) == ("apple.pdf", 3)
    assert docs["/docs/apple.pdf"].status == "indexed"
    assert docs["/docs/apple.pdf"].chunk_count == len(chunk_ids(store, a)) > 1
    assert fts_hits(store, "apple") == len(chunk_ids(store, a))
    assert store.page_text(a, 2) == doc_pages("apple", pages=3)[1].text
    assert_consistent(store)

    store.remove_document(a)
    assert [d.path for d in store.documents()] == ["/docs/banana.pdf"]
    assert chunk_ids(store, a) == set() and rows(store, "SELECT count(*) FROM pages WHERE doc_id=?", a) == 0
    assert fts_hits(store, "apple") == 0 and fts_hits(store, "banana") == len(chunk_ids(store, b))
    assert faiss_ids(store) == chunk_ids(store, b)
    assert store.stats() == {"documents": 1, "pages": 2, "chunks": len(chunk_ids(store, b)), "failed": 0}
    store.remove_document(a)  # removing twice is harmless
    assert_consistent(store)


def test_a_failed_file_is_listed_with_its_reason_and_never_hides_an_indexed_copy(store: Store) -> None:
    store.record_failure(path="/docs/scan.pdf", sha256="", size=10, mtime=1.0, error="no text")
    add(store, "/docs/apple.pdf", "apple")
    store.record_failure(path="/docs/apple.pdf", sha256="x", size=1, mtime=2.0, error="changed and broken")
    docs = {d.path: d for d in store.documents()}
    assert docs["/docs/scan.pdf"].status is DocumentStatus.FAILED and docs["/docs/scan.pdf"].error == "no text"
    assert docs["/docs/apple.pdf"].status is DocumentStatus.INDEXED and docs["/docs/apple.pdf"].error == ""
    assert store.stats()["failed"] == 1 and store.stats()["documents"] == 1
    assert store.indexed_by_hash(docs["/docs/apple.pdf"].sha256) == docs["/docs/apple.pdf"]
    profiles = store.document_profiles(12)  # indexed documents only, with the start of page 1
    assert [(p.name, p.title, p.cover) for p in profiles] == [("apple.pdf", "", doc_pages("apple")[0].text[:12])]


def test_removal_survives_reopening(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        a, b = add(s, "/a.pdf", "apple"), add(s, "/b.pdf", "banana")
        assert top_doc(s, "apple") == "/a.pdf"  # the cache is loaded now and follows later writes
        s.remove_document(a)
        expected = chunk_ids(s, b)
    assert faiss_file_ids(tmp_path) == expected, "closing saves the updated cache"
    with Store(tmp_path) as s:
        assert [d.path for d in s.documents()] == ["/b.pdf"]
        assert fts_hits(s, "apple") == 0
        assert_consistent(s)


def test_adding_the_same_path_again_replaces_the_document(store: Store) -> None:
    store.load_index()
    old = add(store, "/docs/report.pdf", "apple")
    old_chunks = chunk_ids(store, old)
    new = add(store, "/docs/report.pdf", "cherry", pages=1)
    [doc] = store.documents()
    assert (doc.id, doc.page_count) == (new, 1)
    assert chunk_ids(store) == chunk_ids(store, new) and not old_chunks & chunk_ids(store)
    assert fts_hits(store, "apple") == 0 and fts_hits(store, "cherry") > 0
    assert_consistent(store)


# ------------------------------------------------------------------ the FAISS cache


def _delete(index: Path, old: dict[str, bytes]) -> None:
    index.unlink()


def _garbage(index: Path, old: dict[str, bytes]) -> None:
    index.write_bytes(b"not a faiss index" * 50)


def _truncated(index: Path, old: dict[str, bytes]) -> None:
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])


def _stale_fewer_vectors(index: Path, old: dict[str, bytes]) -> None:
    index.write_bytes(old["one document"])


def _stale_same_count_other_ids(index: Path, old: dict[str, bytes]) -> None:
    index.write_bytes(old["before the replace"])  # valid, same size, but one document's ids changed since


DAMAGES = [_delete, _garbage, _truncated, _stale_fewer_vectors, _stale_same_count_other_ids]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.strip("_"))
def test_damaged_or_stale_faiss_file_is_rebuilt_from_sqlite(tmp_path: Path, damage: Callable) -> None:
    old: dict[str, bytes] = {}
    with Store(tmp_path) as s:
        add(s, "/apple.pdf", "apple")
        s.save_index()
        old["one document"] = (tmp_path / INDEX_NAME).read_bytes()
        add(s, "/banana.pdf", "banana")
        add(s, "/cherry.pdf", "cherry")
        s.save_index()
        old["before the replace"] = (tmp_path / INDEX_NAME).read_bytes()
        add(s, "/cherry.pdf", "cherry")  # same text again: same chunk count, new chunk ids
    damage(tmp_path / INDEX_NAME, old)
    with Store(tmp_path) as s:
        expected = chunk_ids(s)
        assert faiss_ids(s) == expected
        assert [top_doc(s, w) for w in ("apple", "banana", "cherry")] == ["/apple.pdf", "/banana.pdf", "/cherry.pdf"]
    assert faiss_file_ids(tmp_path) == expected, "the rebuilt cache is saved for next time"


def test_cache_follows_writes_made_by_another_connection(tmp_path: Path) -> None:
    with Store(tmp_path) as reader, Store(tmp_path) as writer:
        add(writer, "/apple.pdf", "apple")
        assert top_doc(reader, "apple") == "/apple.pdf"
        add(writer, "/banana.pdf", "banana")
        assert top_doc(reader, "banana") == "/banana.pdf"
        assert faiss_ids(reader) == chunk_ids(writer)


# ------------------------------------------------------------------ embedding models


def test_another_embedding_model_is_refused(store: Store) -> None:
    store.check_embedder("anything", 7)  # an empty library accepts any model
    add(store, "/a.pdf", "apple")
    store.check_embedder(EMB.model_id, EMB.dimension)
    with pytest.raises(StoreIncompatibleError) as info:
        store.check_embedder("other-model", EMB.dimension)
    assert EMB.model_id in str(info.value) and "other-model" in str(info.value)
    with pytest.raises(StoreIncompatibleError, match="32 dims"):
        store.check_embedder(EMB.model_id, 32)


def test_add_document_refuses_vectors_of_another_model(store: Store) -> None:
    add(store, "/a.pdf", "apple")
    before = (store.documents(), chunk_ids(store))
    with pytest.raises(StoreIncompatibleError):
        add(store, "/b.pdf", "banana", embedder=HashEmbedder(model_id="other-model"))
    with pytest.raises(StoreIncompatibleError):
        add(store, "/c.pdf", "cherry", embedder=HashEmbedder(dimension=32))
    assert (store.documents(), chunk_ids(store)) == before
    assert_consistent(store)


def test_empty_library_accepts_a_new_model_after_everything_is_removed(store: Store) -> None:
    store.remove_document(add(store, "/a.pdf", "apple"))
    other = HashEmbedder(dimension=32, model_id="other-model")
    store.check_embedder(other.model_id, other.dimension)
    add(store, "/b.pdf", "banana", embedder=other)
    assert store.meta("embed_model") == "other-model" and store.meta("embed_dim") == "32"


# ------------------------------------------------------------------ write failures


def test_disk_full_fails_the_write_and_keeps_the_library_as_it_was(store: Store) -> None:
    store.load_index()
    a = add(store, "/a.pdf", "apple")
    before = (store.documents(), chunk_ids(store), faiss_ids(store))
    pages_now = rows(store, "PRAGMA page_count")
    store._db.execute(f"PRAGMA max_page_count={pages_now}")  # SQLite now answers SQLITE_FULL on growth
    with pytest.raises(StoreWriteError, match="disk is full"):
        add(store, "/big.pdf", "banana", pages=40)
    with pytest.raises(StoreWriteError, match="disk is full"):
        add(store, "/a.pdf", "cherry", pages=40)  # replacing must not lose the old version either
    assert (store.documents(), chunk_ids(store), faiss_ids(store)) == before
    assert fts_hits(store, "banana") == fts_hits(store, "cherry") == 0
    assert rows(store, "SELECT count(*) FROM pages") == 2
    store._db.execute("PRAGMA max_page_count=1073741823")  # space freed: the same store writes again
    add(store, "/big.pdf", "banana", pages=40)
    assert {d.path for d in store.documents()} == {"/a.pdf", "/big.pdf"}
    assert chunk_ids(store, a) == before[1]
    assert_consistent(store)


def test_a_read_only_data_folder_is_read_and_refuses_every_change(tmp_path: Path, read_only: ReadOnly) -> None:
    folder = tmp_path / "lib"
    with Store(folder) as s:
        a = add(s, "/a.pdf", "apple")
        s.collections.create("Fruit", [a])
        s.record_failure(path="/scan.pdf", sha256="", size=1, mtime=1.0, error="no text")
        expected = (s.documents(), chunk_ids(s), s.collections.all())
    files = sorted(p.name for p in folder.iterdir())
    read_only.apply_tree(folder)
    with Store(folder) as s:
        assert s.read_only
        assert (s.documents(), chunk_ids(s), s.collections.all()) == expected
        assert top_doc(s, "apple report") == "/a.pdf"
        assert s.keyword_search('"apple"', 5) and s.page_text(a, 1) == doc_pages("apple")[0].text
        for change in (lambda: add(s, "/b.pdf", "banana"), lambda: s.remove_document(a), s.require_writable,
                       lambda: s.record_failure(path="/c.pdf", sha256="", size=1, mtime=1.0, error="x"),
                       lambda: s.collections.create("Other", [a]), lambda: s.collections.delete(1)):
            with pytest.raises(StoreWriteError, match="the data folder is read-only; nothing was changed") as info:
                change()
            assert str(folder) in str(info.value)
    assert sorted(p.name for p in folder.iterdir()) == files  # nothing written beside them
    with pytest.raises(StoreWriteError, match="read-only"):
        Store(folder, read_only=False)  # a writer is refused at once
    read_only.restore()
    with Store(folder) as s:
        assert not s.read_only and (s.documents(), chunk_ids(s), s.collections.all()) == expected
        assert_consistent(s)


def test_a_library_that_cannot_be_made_reads_as_empty_and_refuses_changes(tmp_path: Path, read_only: ReadOnly) -> None:
    read_only.apply(tmp_path)
    with Store(tmp_path / "new-library") as s:
        assert s.read_only and s.documents() == [] and s.collections.all() == [] and s.stats()["documents"] == 0
        with pytest.raises(StoreWriteError, match="read-only"):
            s.require_writable()
    with pytest.raises(StoreWriteError, match="read-only"):
        Store(tmp_path / "new-library", read_only=False)


def test_a_read_only_library_file_is_opened_for_reading(tmp_path: Path, read_only: ReadOnly) -> None:
    folder = tmp_path / "lib"
    with Store(folder) as s:
        add(s, "/a.pdf", "apple")
    read_only.apply(folder / DB_NAME)
    with Store(folder) as s:
        assert s.read_only and [d.path for d in s.documents()] == ["/a.pdf"]
        with pytest.raises(StoreWriteError, match="read-only"):
            add(s, "/b.pdf", "banana")
    read_only.restore()
    with Store(folder) as s:
        assert [d.path for d in s.documents()] == ["/a.pdf"]


def test_a_read_only_library_of_an_earlier_version_is_read_without_changing_it(tmp_path: Path,
                                                                               read_only: ReadOnly) -> None:
    folder = tmp_path / "lib"
    with Store(folder) as s:
        add(s, "/a.pdf", "apple")
    db = sqlite3.connect(folder / DB_NAME)  # as an early version left it: no collections, no titles
    db.executescript("DROP TABLE collection_documents; DROP TABLE collections; "
                     "ALTER TABLE documents DROP COLUMN title;")
    db.close()
    before = (folder / DB_NAME).read_bytes()
    read_only.apply_tree(folder)
    with Store(folder) as s:
        assert [(d.path, d.title) for d in s.documents()] == [("/a.pdf", "")]
        assert s.collections.all() == [] and top_doc(s, "apple") == "/a.pdf"
    assert (folder / DB_NAME).read_bytes() == before


def test_a_data_folder_that_is_a_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "lib").write_text("not a folder")
    for mode in (None, True, False):
        with pytest.raises(StoreError, match="is a file, not a folder") as info:
            Store(tmp_path / "lib", read_only=mode)
        assert "Errno" not in str(info.value)


def test_a_path_that_is_not_utf8_is_stored_as_its_own_bytes(store: Store) -> None:
    latin1 = os.fsdecode(b"/docs/caf\xe9.pdf")  # how Python gives a Latin-1 name from the disk
    other = os.fsdecode(b"/docs/caf\xe8.pdf")  # shown the same, and still another file
    a, b = add(store, latin1, "coffee"), add(store, other, "tea")
    store.record_failure(path=os.fsdecode(b"/docs/\xff.pdf"), sha256="", size=1, mtime=1.0,
                         error=os.fsdecode(b"\xff.pdf: no text"))
    docs = {d.path: d for d in store.documents()}
    assert docs[latin1].id == a and docs[other].id == b
    assert docs[latin1].name == docs[other].name == "caf\ufffd.pdf"
    assert docs[os.fsdecode(b"/docs/\xff.pdf")].error == "\ufffd.pdf: no text"
    assert store.document_by_path(latin1).id == a and top_doc(store, "coffee report") == latin1
    store.remove_document(a)
    assert store.document_by_path(latin1) is None and store.document_by_path(other).id == b
    assert_consistent(store)
