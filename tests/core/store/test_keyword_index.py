"""Keyword search within documents by rowid ranges, word statistics, and all-common questions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import pytest
from fakes import HashEmbedder

from desktop_rag.core.store import keyword_index
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, Page

EMB = HashEmbedder()
TEXTS = {
    "alpha.pdf": ["alpha revenue rose", "alpha hired staff", "revenue and margin grew"],
    "beta.pdf": ["beta revenue fell", "beta margin shrank", "weather hurt beta"],
    "gamma.pdf": ["gamma revenue flat", "gamma opened a plant", "revenue margin outlook"],
}


def add(store: Store, name: str, texts: list[str]) -> int:
    chunks = [Chunk(i, t, 1, 1, 0, len(t), 3) for i, t in enumerate(texts)]
    return store.add_document(path=f"/docs/{name}", sha256=hashlib.sha256(name.encode()).hexdigest(), size=1,
                              mtime=0.0, pages=[Page(1, " ".join(texts))], chunks=chunks,
                              vectors=EMB.embed(texts), model_id=EMB.model_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as s:
        for name, texts in TEXTS.items():
            add(s, name, texts)
        yield s


def doc_of(store: Store, chunk_id: int) -> str:
    return Path(store.chunk_rows([chunk_id])[chunk_id]["path"]).name


def test_search_within_documents_keeps_scores_and_excludes_others(store: Store) -> None:
    everywhere = dict(store.keyword_search('"revenue" OR "margin"', 20))
    ids = {Path(d.path).name: d.id for d in store.documents()}
    within = store.keyword_search('"revenue" OR "margin"', 20, doc_ids=[ids["alpha.pdf"], ids["gamma.pdf"]])
    assert {doc_of(store, cid) for cid, _ in within} == {"alpha.pdf", "gamma.pdf"}
    assert len(within) == 4
    assert [s for _, s in within] == sorted((s for _, s in within), reverse=True)
    for cid, score in within:  # BM25 statistics are the whole table's
        assert score == pytest.approx(everywhere[cid])


def test_range_and_join_paths_agree(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [d.id for d in store.documents()][:2]
    by_ranges = store.keyword_search('"revenue" OR "beta"', 3, doc_ids=ids)
    monkeypatch.setattr(keyword_index, "MAX_RANGES", 0)
    assert store.keyword_search('"revenue" OR "beta"', 3, doc_ids=ids) == by_ranges
    assert len(by_ranges) == 3


def test_adjacent_documents_make_one_range_and_a_gap_splits(store: Store) -> None:
    ids = {Path(d.path).name: d.id for d in store.documents()}
    [(low, high)] = store.keywords._id_ranges([ids["alpha.pdf"], ids["beta.pdf"]])
    assert high - low == 5  # six chunks, written one document after the other
    split = store.keywords._id_ranges([ids["alpha.pdf"], ids["gamma.pdf"]])
    assert len(split) == 2 and split[1][1] - split[1][0] == 2
    store.remove_document(ids["beta.pdf"])  # ids are never reused: alpha and gamma are now one run
    assert len(store.keywords._id_ranges([ids["alpha.pdf"], ids["gamma.pdf"]])) == 1
    assert {doc_of(store, c) for c, _ in store.keyword_search('"revenue"', 10, doc_ids=[ids["gamma.pdf"]])} == {
        "gamma.pdf"}


def test_word_statistics_follow_changes(store: Store, tmp_path: Path) -> None:
    keywords = store.keywords
    ids = {Path(d.path).name: d.id for d in store.documents()}
    assert keywords.term_chunks("revenue") == 5
    assert keywords.term_chunks("revenues") == 5  # stemmed like FTS5 matches
    assert keywords.term_document_counts("beta") == {ids["beta.pdf"]: 3}
    assert keywords.term_chunks("delta") == 0 and keywords.term_document_counts("delta") == {}
    with Store(tmp_path / "data") as other:  # another connection (the GUI's ingestion worker)
        delta = add(other, "delta.pdf", ["delta revenue", "delta beta partnership"])
    assert keywords.term_chunks("revenue") == 6
    assert keywords.term_document_counts("beta") == {ids["beta.pdf"]: 3, delta: 1}
    store.remove_document(delta)  # this connection
    assert keywords.term_document_counts("beta") == {ids["beta.pdf"]: 3}


def test_only_words_in_half_the_passages_are_left_out(store: Store) -> None:
    retriever = Retriever(store, EMB)
    # "revenue" is in 5 of 9 passages: BM25 gives it no weight, so it is left out; "margin" (3 of
    # 9) and "beta" (3 of 9) are common in a small library yet still find the page: kept
    assert retriever._keyword_expression("revenue margin beta") == '"margin" OR "beta"'
    assert [h.text for h in retriever.search("revenue margin beta", k=1, mode="keyword")] == [
        "beta margin shrank"]


def test_question_of_only_common_words_asks_for_them_together(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword_index, "COMMON_TERM_SHARE", 3 / 9)  # "revenue" (5) and "margin" (3) are common
    retriever = Retriever(store, EMB)
    expression = retriever._keyword_expression("revenue margin")
    assert expression == '"margin" AND "revenue"'
    hits = retriever.search("revenue margin", k=5, mode="keyword")
    assert {h.text for h in hits} == {"revenue and margin grew", "revenue margin outlook"}
    # a rare word present: only the rare words are asked for
    assert retriever._keyword_expression("revenue weather") == '"weather"'
    # common words that never meet: any of them
    monkeypatch.setattr(keyword_index, "COMMON_TERM_SHARE", 1 / 9)
    assert retriever._keyword_expression("weather opened") == '"weather" OR "opened"'
    assert {h.text for h in retriever.search("weather opened", k=5, mode="keyword")} == {
        "weather hurt beta", "gamma opened a plant"}
    # within a scope, words together only where they meet in it
    alpha = next(d.id for d in store.documents() if d.name == "alpha.pdf")
    assert retriever._keyword_expression("revenue margin", [alpha]) == '"margin" AND "revenue"'
    beta = next(d.id for d in store.documents() if d.name == "beta.pdf")
    assert retriever._keyword_expression("revenue margin", [beta]) == '"revenue" OR "margin"'
    assert {h.text for h in retriever.search("revenue margin", k=5, mode="keyword", scope=[beta])} == {
        "beta revenue fell", "beta margin shrank"}
