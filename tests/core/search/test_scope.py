"""A question limited to some documents: names resolve to documents, unknown names are refused
with the nearest file names, and search never leaves the scope."""

from __future__ import annotations

import pytest
from fakes import HashEmbedder

from library_fixture import library  # noqa: F401 - the fixture

from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.search.scope import resolve_scope
from desktop_rag.core.store.library import Store
from desktop_rag.errors import ScopeError


def test_names_paths_and_stems_resolve_to_indexed_documents(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    docs = {d.name: d for d in store.documents()}
    ids = resolve_scope(["garden.pdf", "2023 q1 acme", docs["2023 Q1 BOLT.pdf"].path], store.documents())
    assert ids == [docs["garden.pdf"].id, docs["2023 Q1 ACME.pdf"].id, docs["2023 Q1 BOLT.pdf"].id]


def test_an_unknown_name_is_refused_with_the_near_matches(library: tuple[Store, HashEmbedder]) -> None:
    store, _ = library
    with pytest.raises(ScopeError, match=r"'gardn\.pdf' is not a document in the library \(did you mean 'garden\.pdf'"):
        resolve_scope(["gardn.pdf"], store.documents())


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_a_scoped_search_never_leaves_its_scope(library: tuple[Store, HashEmbedder], mode: str) -> None:
    store, embedder = library
    bolt = next(d.id for d in store.documents() if d.name == "2023 Q1 BOLT.pdf")
    hits = Retriever(store, embedder).search("ACME revenue million", k=5, mode=mode, scope=[bolt])
    assert hits and {h.file for h in hits} == {"2023 Q1 BOLT.pdf"}
    assert Retriever(store, embedder).search("ACME revenue", k=5, mode=mode, scope=[]) == []
