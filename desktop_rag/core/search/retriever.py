"""Query -> hits: dense (FAISS), keyword (FTS5 BM25), or both fused by reciprocal rank fusion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.search.boilerplate import asks_for_boilerplate, is_boilerplate
from desktop_rag.core.search.naming import (COVER_CHARS, document_scores, is_period_word, label_words,
                                            other_periods)
from desktop_rag.core.search.statements import statement_of_page, statements_asked
from desktop_rag.core.search.synonyms import report_words, with_report_words
from desktop_rag.core.text import content_terms, query_terms, writes_code
from desktop_rag.core.types import Hit, RetrievalMode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageKind:
    """What a page is, read once from its text and kept while the library stays the same: search
    ranks boilerplate down and statement pages up; quotes pass over boilerplate and read the
    statement a question names first."""

    boilerplate: bool
    statement: str  # "income", "balance", "cash", "equity", or ""

RRF_K = 60
NAMED_RELATIVE_SCORE = 0.5  # documents scoring at least half the best are named
NAMED_MAX_SHARE = 1 / 3  # a third of the library nearly tied for best: the question names none
NAMED_TIE_SHARE = 0.85
NAMED_MAX_DOCUMENTS = 5
NAMED_WEIGHT = 10.0  # a named document's own ranking over the library-wide one (2 -> 10: SEC page hit@5 .69 -> .76)
NAMED_SHARPNESS = 2.0  # a document's weight is (score / best) ** this
NAMED_WORD_SHARE = 0.1  # a naming word in this share of a named document's passages says nothing within it
AGREED_DEPTH = 3  # a page both library-wide rankings put this high counts as named (see _add_agreed_page)
BOILERPLATE_FACTOR = 0.5  # contents pages, signatures, exhibit lists: half their fused score
CODE_KEYWORD_WEIGHT = 2.0  # the keyword ranking's weight for a question that writes code (dense: 1)
STATEMENT_WEIGHT = 2 * NAMED_WEIGHT  # a statement the question names, in a document it names: as if topping both


def _fusion_weights(query: str) -> list[float] | None:
    """The weights of the dense and keyword rankings in the fusion: equal, unless the question
    writes code (:func:`writes_code`), whose exact tokens keyword search finds and embeddings blur."""
    return [1.0, CODE_KEYWORD_WEIGHT] if writes_code(query) else None


def fts_match_expression(query: str) -> str:
    """An FTS5 query that ORs the quoted content words (user text never reaches FTS syntax)."""
    return " OR ".join(f'"{term}"' for term in query_terms(query))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of weight / (k + rank), rank from 1."""
    scores: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[i]
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


@dataclass(frozen=True, slots=True)
class NamedDocuments:
    """The documents a question names, ``weights`` {doc id: weight in (0, 1]}, and the words that
    name them ("apple", "q2", "2023"): every passage of those documents matches those words, so
    they say nothing about which one answers."""

    weights: dict[int, float]
    words: frozenset[str]
    passages: Mapping[int, int] = field(default_factory=dict)  # {doc id: how many passages it has}
    other_periods: frozenset[int] = frozenset()  # reports of other quarters than the one it names with its year


NOTHING_NAMED = NamedDocuments({}, frozenset())


class Retriever:
    """Searches one store with one embedder.

    What a search depends on is a value the caller may hold and pass: the query's embedding
    (:meth:`embed_queries` makes it, many questions in one batch) and the documents it names
    (:meth:`named`); :meth:`search` works out either itself when not given it.
    """

    def __init__(self, store: Store, embedder: Embedder, candidates: int = 50) -> None:
        self.store, self.embedder, self.candidates = store, embedder, candidates

    def search(self, query: str, *, k: int, mode: RetrievalMode | str, vector: np.ndarray | None = None,
               scope: Sequence[int] | None = None, named: NamedDocuments | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query``. ``vector``: its embedding, when the caller has it;
        ``scope``: the ids of the only documents to search (None: the whole library); ``named``:
        :meth:`named` for this query and scope, when the caller has it."""
        query = query.strip()
        if not query or k <= 0 or (scope is not None and not scope):
            return []
        scope = list(scope) if scope is not None else None
        if mode == RetrievalMode.KEYWORD:
            return self._hits(self.store.keyword_search(self._keyword_expression(query, scope), k, scope))
        if mode not in (RetrievalMode.DENSE, RetrievalMode.HYBRID):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        if vector is None:
            vector = self.embed_query(query)
        if mode == RetrievalMode.DENSE:
            return self._hits([] if vector is None else self.store.dense_search(vector, k, scope))
        return self._hits(self._hybrid(query, vector, k, scope, named or self.named(query, scope)))

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray | None:
        """The queries' embeddings, one row each, in one batch; None for an empty library (nothing
        to compare them with, so the model is not even loaded)."""
        if not self.store.has_chunks():
            return None
        return self.embedder.embed(list(queries))

    def embed_query(self, query: str) -> np.ndarray | None:
        """The query's embedding; None for an empty library."""
        vectors = self.embed_queries([query])
        return None if vectors is None else vectors[0]

    def _hybrid(self, query: str, vector: np.ndarray | None, k: int, scope: list[int] | None,
                named: NamedDocuments) -> list[tuple[int, float]]:
        """The library-wide dense and keyword rankings fused (RRF), plus, for each document the
        question names, both rankings again within that document, weighted by how clearly it is
        named; boilerplate pages ranked down; then one passage per page before any second one.

        Within a named document the words that named it ("Apple", "Q2", "2023") say nothing about
        which page answers, so its rankings use the question without them. On the SEC page-level
        yardstick (110 questions) this took page hit@5 from 0.38 to 0.69 (benchmarks/bench_eval.py).
        """
        depth = max(self.candidates, k)
        rankings = [
            [cid for cid, _ in self.store.dense_search(vector, depth, scope)] if vector is not None else [],
            [cid for cid, _ in self.store.keyword_search(
                self._keyword_expression(with_report_words(query), scope), depth, scope)],
        ]
        # exact code ("--release", "asn1_read_value", "build.rs") is what keyword search finds best
        fused = dict(reciprocal_rank_fusion(rankings, weights=_fusion_weights(query)))
        if named.weights and vector is not None:
            self._add_named_rankings(fused, query, vector, named, depth)
        self._add_agreed_page(fused, rankings, query, named)
        self._add_statements(fused, query, named, scope)
        pages = self.store.page_starts(list(fused))
        if not asks_for_boilerplate(set(query_terms(query))):
            boilerplate = self._boilerplate_pages(set(pages.values()))
            for cid, page in pages.items():
                if page in boilerplate:
                    fused[cid] *= BOILERPLATE_FACTOR
        ranked = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)
        return _one_per_page_first(ranked, pages)[:k]

    def _add_named_rankings(self, fused: dict[int, float], query: str, vector: np.ndarray,
                            named: NamedDocuments, depth: int) -> None:
        terms = query_terms(query)
        rest = content_terms(query, named.words)
        if not self._found_in(rest, named.weights):  # the naming words were all it asked about
            rest = content_terms(query) or terms   # (a short document whose first page answers)
        if rest != terms:
            vector = self.embedder.embed([" ".join(rest)])[0]
        searched = " ".join([*rest, *report_words(query)])
        for doc_id, weight in named.weights.items():
            match = self._keyword_expression(searched, [doc_id])
            within = [
                [cid for cid, _ in self.store.dense_search(vector, depth, doc_ids=[doc_id])],
                [cid for cid, _ in self.store.keyword_search(match, depth, doc_ids=[doc_id])],
            ]
            for cid, score in reciprocal_rank_fusion(within):
                fused[cid] = fused.get(cid, 0.0) + NAMED_WEIGHT * weight * score

    def _add_agreed_page(self, fused: dict[int, float], rankings: Sequence[Sequence[int]], query: str,
                         named: NamedDocuments) -> None:
        """A page that both library-wide rankings put among their first :data:`AGREED_DEPTH`, in a
        document the question does not name, ranked as if it topped a named document's rankings. In a
        library of books sharing their technical words, those words named the wrong books ("capture"
        of --no-capture named the edition guide, which dwells on lifetime capture), whose own rankings
        then outweighed two rankings that agreed. Not when the page's document lacks a word of the question that names
        a named document by its label: both rankings had Apple's page on tax among their first three for
        "Intel's effective tax rate", and Apple's filing never says "Intel". Nor in a report of another
        period than the quarter the question names with its year (its text holds "Q3 2022" too)."""
        dense, keyword = (ranking[:AGREED_DEPTH] for ranking in rankings)
        pages = self.store.page_starts([*dense, *keyword])
        in_dense = {pages[cid]: cid for cid in dense if cid in pages}
        # only words counted in full (a common word, "may", "used", is not) judge; a single letter names nothing
        keywords = self.store.keywords
        naming = [keywords.term_document_counts(word) for word in set(query_terms(query)) & named.words
                  if len(word) > 1 and keywords.counted_in_full(word)]
        agreed = [(cid, in_dense[pages[cid]]) for cid in keyword if pages.get(cid) in in_dense
                  and pages[cid][0] not in named.weights and pages[cid][0] not in named.other_periods
                  and all(c.get(pages[cid][0], 0) for c in naming)]
        if agreed:  # the one the fusion ranks best
            for cid in set(max(agreed, key=lambda pair: fused[pair[0]] + fused[pair[1]])):
                fused[cid] += NAMED_WEIGHT * 2 / (RRF_K + 1)

    def _found_in(self, words: Sequence[str], doc_ids: dict[int, float]) -> bool:
        """Whether any of the words is in any passage of these documents."""
        counts = self.store.keywords.term_document_counts
        return any(doc_id in counts(word) for word in words for doc_id in doc_ids)

    def _add_statements(self, fused: dict[int, float], query: str, named: NamedDocuments,
                        scope: list[int] | None) -> None:
        """The pages of the financial statements the question names ("in the cash flow statement"),
        in the documents it names (or, in a library of a few documents, in each), ranked up as
        if they topped both of that document's own rankings: as if they topped one, a note that did
        ("Microsoft's inventory levels") kept the balance sheet below it in four filings (see
        :mod:`desktop_rag.core.search.statements`)."""
        asked = statements_asked(query)
        if not asked:
            return
        weights = named.weights
        if not weights:
            docs = scope if scope is not None else np.unique(self.store.keywords.chunk_documents()[1]).tolist()
            weights = {d: 1.0 for d in docs} if len(docs) <= NAMED_MAX_DOCUMENTS else {}
        keys = [("statements", doc_id) for doc_id in weights]
        for (_, doc_id), by_kind in self.store.facts.get_many(keys, self._statement_chunks).items():
            for cid in (c for kind in sorted(asked) for c in by_kind.get(kind, ())):
                fused[cid] = fused.get(cid, 0.0) + STATEMENT_WEIGHT * weights[doc_id] / (RRF_K + 1)

    def _statement_chunks(self, keys: list) -> dict:  # noqa: ANN001 - keys of the store's derived facts
        """{("statements", doc id): {statement kind: the chunk ids starting on its pages}}."""
        found = {}
        for key in keys:  # pages by their own numbers: a document's pages need not run 1..N
            starts = self.store.page_starts(self.store.chunk_ids_of([key[1]]).tolist())
            kinds = self.page_kinds(set(starts.values()))
            by_kind: dict[str, list[int]] = {}
            for cid, page in sorted(starts.items()):
                if page in kinds and kinds[page].statement:
                    by_kind.setdefault(kinds[page].statement, []).append(cid)
            found[key] = by_kind
        return found

    def page_kinds(self, pages: Iterable[tuple[int, int]]) -> dict[tuple[int, int], PageKind]:
        """{(doc id, page): what it is} for those of the pages that exist; known pages are not read again."""
        def judge(missing: list) -> dict:  # noqa: ANN001 - keys of the store's derived facts
            texts = self.store.page_texts(page for _, page in missing)
            return {key: PageKind(is_boilerplate(texts[key[1]]), statement_of_page(texts[key[1]]))
                    if key[1] in texts else None for key in missing}

        kinds = self.store.facts.get_many((("page kind", page) for page in pages), judge)
        return {key[1]: kind for key, kind in kinds.items() if kind is not None}

    def _boilerplate_pages(self, pages: set[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (doc id, page) pages are boilerplate."""
        return {page for page, kind in self.page_kinds(pages).items() if kind.boilerplate}

    def _keyword_expression(self, query: str, scope: Sequence[int] | None = None) -> str:
        """The query's words without those in half the passages or more (FTS5's BM25 gives them no
        weight; see :mod:`desktop_rag.core.store.keyword_index`).

        A question made only of such words asks for passages holding its three (else two) rarest
        words together, within ``scope``: a precise query that matches few passages; else for any
        of its words.
        """
        keywords = self.store.keywords
        terms = query_terms(query)
        rare = [t for t in terms if not keywords.is_common(t)]
        if rare or not terms:
            return fts_match_expression(" ".join(rare))
        by_rarity = sorted(terms, key=keywords.term_chunks)
        for size in range(min(3, len(by_rarity)), 1, -1):
            together = " AND ".join(f'"{term}"' for term in by_rarity[:size])
            if keywords.has_match(together, scope):
                return together
        return fts_match_expression(" ".join(terms))

    def named_documents(self, query: str, scope: Sequence[int] | None = None) -> list[int]:
        """The documents the question is about (see :meth:`named`), by id."""
        return sorted(self.named(query, scope).weights)

    def named_weights(self, query: str, scope: Sequence[int] | None = None) -> dict[int, float]:
        return self.named(query, scope).weights

    def named(self, query: str, scope: Sequence[int] | None = None) -> NamedDocuments:
        """The documents the question names, among ``scope`` (None: the whole library).

        Documents scoring at least half the best (:func:`document_scores`) are named, at most
        five, weighted by ``(score / best) ** 2``; none when two or more documents nearly tie for
        best and they are a third of the library or more: then the question singles nothing out.
        """
        profiles = self.store.document_profiles(COVER_CHARS)
        if scope is not None:
            allowed = set(scope)
            profiles = [p for p in profiles if p.doc_id in allowed]
        scores = document_scores(query, profiles, self.store.keywords.term_document_counts)
        best = max(scores.values(), default=0.0)
        leaders = sum(1 for s in scores.values() if s >= NAMED_TIE_SHARE * best)
        if best <= 0 or (leaders > 1 and leaders >= len(profiles) * NAMED_MAX_SHARE):
            return NOTHING_NAMED  # (one clear leader names its document even in a library of two or three)
        chosen = sorted((d for d, s in scores.items() if s >= NAMED_RELATIVE_SCORE * best),
                        key=lambda d: scores[d], reverse=True)[:NAMED_MAX_DOCUMENTS]
        sizes = {p.doc_id: p.passages for p in profiles if p.doc_id in chosen}
        return NamedDocuments({d: (scores[d] / best) ** NAMED_SHARPNESS for d in chosen},
                              label_words(profiles, chosen), sizes, other_periods(query, profiles))

    def naming_words_throughout(self, named: NamedDocuments, question: str) -> frozenset[str]:
        """The words of ``question`` that named the documents and say nothing about which of their
        pages answers: a date or period ("2023", "q2"), or a word in :data:`NAMED_WORD_SHARE` of a
        named document's passages or more ("Apple" in a 10-Q: 15-47%). A manual's cover words
        ("type", "file") are not."""
        asked = named.words & set(query_terms(with_report_words(question)))
        if not asked:
            return frozenset()
        def throughout(word: str) -> bool:
            counts = self.store.keywords.term_document_counts(word)
            return is_period_word(word) or any(counts.get(d, 0) >= NAMED_WORD_SHARE * max(named.passages.get(d, 0), 1)
                                               for d in named.weights)

        return frozenset(w for w in asked if throughout(w))

    def _hits(self, scored: Sequence[tuple[int, float]]) -> list[Hit]:
        rows = self.store.chunk_rows(cid for cid, _ in scored)
        hits = []
        for cid, score in scored:
            row = rows.get(cid)
            if row is None:
                continue
            hits.append(
                Hit(chunk_id=cid, doc_id=row["doc_id"], file=row["name"], path=row["path"],
                    page=row["page_start"], page_end=row["page_end"], start_offset=row["start_offset"],
                    end_offset=row["end_offset"], score=score, text=row["text"], label=row["label"])
            )
        return hits


def _one_per_page_first(scored: list[tuple[int, float]],
                        pages: dict[int, tuple[int, int]]) -> list[tuple[int, float]]:
    """The best passage of each page first, in score order, then the pages' other passages:
    five results from five pages show the user (and the model) more than five from two."""
    seen: set[tuple[int, int] | None] = set()
    first, later = [], []
    for cid, score in scored:
        page = pages.get(cid)
        (later if page in seen else first).append((cid, score))
        seen.add(page)
    return first + later
