"""Collections in the store: named sets of documents, kept in the library's database. Names are
checked; removing a document takes it out of its collections; deleting a collection keeps its
documents; a file indexed again keeps its collections; old libraries gain the tables on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from test_store import EMB, add

from desktop_rag.core.store.collections import MAX_NAME_CHARS, clean_name
from desktop_rag.core.store.library import DB_NAME, Store
from desktop_rag.errors import CollectionError, StoreWriteError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "lib") as s:
        yield s


@pytest.fixture
def three(store: Store) -> list[int]:
    return [add(store, f"/docs/{word}.pdf", word) for word in ("alpha", "beta", "gamma")]


def test_create_list_rename_and_delete(store: Store, three: list[int]) -> None:
    a, b, c = three
    reports = store.collections.create("Reports", [b, a, a])
    assert (reports.name, reports.doc_ids, reports.count) == ("Reports", (a, b), 2)
    empty = store.collections.create("archive")
    assert [(x.name, x.doc_ids) for x in store.collections.all()] == [("archive", ()), ("Reports", (a, b))]
    assert store.collections.rename(empty.id, "Archive 2024").name == "Archive 2024"
    assert store.collections.named("archive 2024").id == empty.id  # case aside
    assert store.collections.of_document(a) == ["Reports"]
    assert store.collections.names_by_document() == {a: ["Reports"], b: ["Reports"]}
    store.collections.delete(reports.id)
    assert [x.name for x in store.collections.all()] == ["Archive 2024"]
    assert [d.id for d in store.documents()] == [a, b, c]  # deleting a collection never deletes documents


def test_add_and_remove_count_what_changed_and_ignore_unknown_documents(store: Store, three: list[int]) -> None:
    a, b, c = three
    reports = store.collections.create("Reports", [a])
    assert store.collections.add(reports.id, [a, b, 9999]) == 1  # a was in it; 9999 is no document
    assert store.collections.members(reports.id) == [a, b]
    assert store.collections.remove(reports.id, [b, c]) == 1  # c was not in it
    assert store.collections.members(reports.id) == [a]
    assert [d.id for d in store.documents()] == [a, b, c]  # taken out of the collection, not the library


@pytest.mark.parametrize(("name", "message"), [
    ("", "a collection needs a name"),
    ("   \t ", "a collection needs a name"),
    ("x" * (MAX_NAME_CHARS + 1), f"at most {MAX_NAME_CHARS} characters"),
    ("REPORTS", "a collection named 'Reports' already exists"),
    ("  reports ", "a collection named 'Reports' already exists"),
])
def test_bad_or_taken_names_are_refused_and_nothing_changes(store: Store, name: str, message: str) -> None:
    store.collections.create("Reports")
    with pytest.raises(CollectionError, match=message):
        store.collections.create(name)
    assert [c.name for c in store.collections.all()] == ["Reports"]


def test_names_are_trimmed_and_a_rename_may_change_only_the_case(store: Store) -> None:
    assert clean_name("  Quarterly   reports\n") == "Quarterly reports"
    c = store.collections.create("  Quarterly   reports ")
    assert c.name == "Quarterly reports"
    assert store.collections.rename(c.id, "QUARTERLY REPORTS").name == "QUARTERLY REPORTS"
    other = store.collections.create("Other")
    with pytest.raises(CollectionError, match="already exists"):
        store.collections.rename(other.id, "quarterly reports")


def test_unknown_names_and_deleted_collections_are_clear_errors(store: Store, three: list[int]) -> None:
    store.collections.create("Quarterly reports")
    with pytest.raises(CollectionError, match=r"no collection named 'quarterly report' \(did you mean 'Quarterly reports'\?\)"):
        store.collections.find("quarterly report")
    gone = store.collections.create("Gone")
    store.collections.delete(gone.id)
    with pytest.raises(CollectionError, match="no longer exists"):
        store.collections.add(gone.id, three)
    assert store.collections.ensure("gone").id != gone.id  # ensure makes a new one when asked by name


def test_removing_a_document_removes_it_from_its_collections(store: Store, three: list[int]) -> None:
    a, b, c = three
    assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # the cascade needs it
    first = store.collections.create("First", [a, b])
    second = store.collections.create("Second", [a, c])
    store.remove_document(a)
    assert store.collections.members(first.id) == [b]
    assert store.collections.members(second.id) == [c]
    assert store._db.execute("SELECT count(*) FROM collection_documents WHERE doc_id=?", (a,)).fetchone()[0] == 0


def test_a_file_indexed_again_keeps_its_collections(store: Store, three: list[int]) -> None:
    a, _, _ = three
    reports = store.collections.create("Reports", [a])
    new_id = add(store, "/docs/alpha.pdf", "alphabet")  # the file changed on disk: a new row replaces it
    assert new_id != a
    assert store.collections.members(reports.id) == [new_id]


def test_an_old_library_gains_the_tables_on_open(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    with Store(folder) as store:
        doc = add(store, "/docs/alpha.pdf", "alpha")
    db = sqlite3.connect(folder / DB_NAME)  # as an earlier version left it: no collections
    db.executescript("DROP INDEX collection_documents_doc; DROP TABLE collection_documents; DROP TABLE collections;")
    db.close()
    with Store(folder) as store:
        assert [d.id for d in store.documents()] == [doc]
        assert store.collections.all() == []
        assert store.collections.create("Old", [doc]).doc_ids == (doc,)


def test_collection_writes_leave_the_search_cache_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "lib"
    with Store(folder) as reader, Store(folder) as writer:
        doc = add(writer, "/docs/alpha.pdf", "alpha")
        assert reader.dense_search(EMB.embed(["alpha"])[0], 1)  # loads the FAISS cache
        monkeypatch.setattr(Store, "rebuild_index", lambda self: pytest.fail("rebuilt for a collection change"))
        writer.collections.create("Reports", [doc])  # a commit by another connection
        hits = reader.dense_search(EMB.embed(["alpha"])[0], 1)
        assert hits and reader.collections.named("reports").doc_ids == (doc,)


def test_a_failed_write_is_a_store_write_error_and_changes_nothing(store: Store, three: list[int]) -> None:
    reports = store.collections.create("Reports", three[:1])
    store._db.execute("CREATE TRIGGER refuse BEFORE INSERT ON collection_documents "
                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(StoreWriteError, match="the disk is full; nothing was changed"):
        store.collections.create("More", three)
    assert [c.name for c in store.collections.all()] == ["Reports"]  # the new name went with the failed write
    assert store.collections.members(reports.id) == three[:1]
