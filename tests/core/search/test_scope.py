"""A question limited to some documents: names resolve to collections and documents, unknown names
are refused with the nearest collection and file names, a scope with no indexed document is
"nothing to search in", and search never leaves the scope."""

from __future__ import annotations

import pytest
from fakes import HashEmbedder

from library_fixture import library  # noqa: F401 - the fixture

from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.search.scope import EVERYTHING, Scope, documents_named, resolve_scope, scope_documents
from desktop_rag.core.store.library import Store
from desktop_rag.errors import EmptyScopeError, ScopeError


def test_names_paths_and_stems_resolve_to_indexed_documents(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    docs = {d.name: d for d in store.documents()}
    ids = resolve_scope(["garden.pdf", "2023 q1 acme", docs["2023 Q1 BOLT.pdf"].path], store.documents())
    assert ids == [docs["garden.pdf"].id, docs["2023 Q1 ACME.pdf"].id, docs["2023 Q1 BOLT.pdf"].id]


def test_an_unknown_name_is_refused_with_the_near_matches(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    with pytest.raises(ScopeError, match=r"'gardn\.pdf' is not a collection or a document in the library "
                                         r"\(did you mean 'garden\.pdf'"):
        resolve_scope(["gardn.pdf"], store.documents())


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_a_scoped_search_never_leaves_its_scope(library: tuple[Store, HashEmbedder], mode: str) -> None:
    store, embedder = library
    bolt = next(d.id for d in store.documents() if d.name == "2023 Q1 BOLT.pdf")
    hits = Retriever(store, embedder).search("ACME revenue million", k=5, mode=mode, scope=[bolt])
    assert hits and {h.file for h in hits} == {"2023 Q1 BOLT.pdf"}
    assert Retriever(store, embedder).search("ACME revenue", k=5, mode=mode, scope=[]) == []


def test_a_collection_name_resolves_to_its_indexed_documents(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    docs = {d.name: d.id for d in store.documents()}
    store.collections.create("ACME filings", [docs["2023 Q1 ACME.pdf"], docs["2023 Q2 ACME.pdf"]])
    ids = resolve_scope(["acme FILINGS"], store.documents(), store.collections.all())  # case aside
    assert ids == [docs["2023 Q1 ACME.pdf"], docs["2023 Q2 ACME.pdf"]]
    both = resolve_scope(["ACME filings", "garden"], store.documents(), store.collections.all())
    assert both == [docs["2023 Q1 ACME.pdf"], docs["2023 Q2 ACME.pdf"], docs["garden.pdf"]]


def test_a_name_that_is_both_a_collection_and_a_file_means_both(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    docs = {d.name: d.id for d in store.documents()}
    store.collections.create("garden", [docs["2023 Q1 BOLT.pdf"]])
    assert resolve_scope(["garden"], store.documents(), store.collections.all()) == [
        docs["2023 Q1 BOLT.pdf"], docs["garden.pdf"]]


def test_unknown_names_list_near_collections_and_files(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    store.collections.create("Gardening")
    with pytest.raises(ScopeError) as caught:
        resolve_scope(["gardenin", "2023 Q1 ACME", "zzz"], store.documents(), store.collections.all())
    message = str(caught.value)
    assert "'gardenin' is not a collection or a document in the library (did you mean 'Gardening' (a collection), " \
           "'garden.pdf'?)" in message
    assert "'zzz' is not a collection or a document in the library." in message  # no near match: no hint
    assert "2023 Q1 ACME" not in message  # the good name is not a problem


def test_an_empty_collection_is_nothing_to_search_in(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    store.collections.create("Empty")
    with pytest.raises(EmptyScopeError, match=r"^Collection 'Empty' has no indexed documents: nothing to search in\.$"):
        resolve_scope(["empty"], store.documents(), store.collections.all())
    # with another name that holds documents, the empty collection takes nothing away
    garden = next(d.id for d in store.documents() if d.name == "garden.pdf")
    assert resolve_scope(["Empty", "garden.pdf"], store.documents(), store.collections.all()) == [garden]


def test_a_file_that_failed_to_index_is_nothing_to_search_in(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    store.record_failure(path="/docs/broken.pdf", sha256="x", size=1, mtime=1.0, error="broken.pdf: not a PDF file")
    with pytest.raises(EmptyScopeError, match="'broken.pdf' could not be indexed: nothing to search in"):
        resolve_scope(["broken.pdf"], store.documents(), store.collections.all())


def test_documents_named_finds_files_only(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    store.collections.create("garden party")
    assert [d.name for d in documents_named(["GARDEN", "2023 q1 bolt.pdf"], store.documents())] == [
        "garden.pdf", "2023 Q1 BOLT.pdf"]
    with pytest.raises(ScopeError, match=r"'garden party' is not a document in the library \(did you mean 'garden.pdf'"):
        documents_named(["garden party"], store.documents())


def test_a_scope_picked_in_the_window_is_resolved_when_the_question_is_asked(
        library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    docs = {d.name: d.id for d in store.documents()}
    assert scope_documents(EVERYTHING, store) is None
    bolt = store.collections.create("Bolt", [docs["2023 Q1 BOLT.pdf"]])
    assert scope_documents(Scope("Bolt", collection_id=bolt.id), store) == [docs["2023 Q1 BOLT.pdf"]]
    store.collections.rename(bolt.id, "Bolt Inc")  # held by id: a rename does not lose it
    assert scope_documents(Scope("Bolt", collection_id=bolt.id), store) == [docs["2023 Q1 BOLT.pdf"]]
    store.collections.remove(bolt.id, [docs["2023 Q1 BOLT.pdf"]])
    with pytest.raises(EmptyScopeError, match="Collection 'Bolt Inc' has no indexed documents: nothing to search in"):
        scope_documents(Scope("Bolt Inc", collection_id=bolt.id), store)
    store.collections.delete(bolt.id)
    with pytest.raises(ScopeError, match="The collection 'Bolt Inc' was deleted"):
        scope_documents(Scope("Bolt Inc", collection_id=bolt.id), store)
    assert scope_documents(Scope("garden.pdf", doc_ids=(docs["garden.pdf"],)), store) == [docs["garden.pdf"]]
    with pytest.raises(EmptyScopeError, match="No indexed document is selected in the library: nothing to search in"):
        scope_documents(Scope("0 selected documents", doc_ids=()), store)


def test_a_search_in_a_collection_never_leaves_it(library: tuple[Store, HashEmbedder]) -> None:
    store, embedder = library
    docs = {d.name: d.id for d in store.documents()}
    store.collections.create("Others", [docs["2023 Q1 BOLT.pdf"], docs["garden.pdf"]])
    scope = resolve_scope(["others"], store.documents(), store.collections.all())
    for mode in ("dense", "keyword", "hybrid"):
        hits = Retriever(store, embedder).search("ACME revenue million dollars", k=10, mode=mode, scope=scope)
        assert hits and {h.file for h in hits} <= {"2023 Q1 BOLT.pdf", "garden.pdf"}
