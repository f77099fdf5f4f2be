"""Query -> hits: dense (FAISS), keyword (FTS5 BM25), or both fused by reciprocal rank fusion."""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.search.boilerplate import asks_for_boilerplate, is_boilerplate
from desktop_rag.core.search.naming import COVER_CHARS, DocumentNamer
from desktop_rag.core.text import content_terms, query_terms
from desktop_rag.core.types import Hit, RetrievalMode

log = logging.getLogger(__name__)

RRF_K = 60
NAMED_RELATIVE_SCORE = 0.5  # documents scoring at least half the best are named
NAMED_MAX_SHARE = 1 / 3  # a third of the library nearly tied for best: the question names none
NAMED_TIE_SHARE = 0.85
NAMED_MAX_DOCUMENTS = 5
NAMED_WEIGHT = 2.0  # how much a named document's own ranking adds to the library-wide one
NAMED_SHARPNESS = 2.0  # a document's weight is (score / best) ** this
BOILERPLATE_FACTOR = 0.5  # contents pages, signatures, exhibit lists: half their fused score
BOILERPLATE_CACHE = 100_000


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


class Retriever:
    """Searches one store with one embedder.

    The query's embedding is a value the caller may hold: :meth:`embed_queries` makes it (many
    questions in one batch), :meth:`search` takes it, and embeds the query itself when not given one.
    """

    def __init__(self, store: Store, embedder: Embedder, candidates: int = 50) -> None:
        self.store, self.embedder, self.candidates = store, embedder, candidates
        self._namer = DocumentNamer()
        self._boilerplate: dict[int, bool] = {}  # chunk id -> on a boilerplate page (ids are never reused)
        self._scope: list[int] | None = None  # the documents the current search may look in

    def search(self, query: str, *, k: int, mode: RetrievalMode | str,
               vector: np.ndarray | None = None, scope: Sequence[int] | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query``. ``vector``: its embedding, when the caller has it;
        ``scope``: the ids of the only documents to search (None: the whole library)."""
        query = query.strip()
        if not query or k <= 0 or (scope is not None and not scope):
            return []
        self._scope = list(scope) if scope is not None else None
        if mode == RetrievalMode.KEYWORD:
            return self._hits(self.store.keyword_search(self._keyword_expression(query), k, self._scope))
        if mode not in (RetrievalMode.DENSE, RetrievalMode.HYBRID):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        if vector is None:
            vector = self.embed_query(query)
        scored = self._dense(vector, k) if mode == RetrievalMode.DENSE else self._hybrid(query, vector, k)
        return self._hits(scored)

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

    def _hybrid(self, query: str, vector: np.ndarray | None, k: int) -> list[tuple[int, float]]:
        """The library-wide dense and keyword rankings fused (RRF), plus, for each document the
        question names, both rankings again within that document, weighted by how clearly it is
        named; boilerplate pages ranked down; then one passage per page before any second one.

        Within a named document the words that named it ("Apple", "Q2", "2023") say nothing about
        which page answers, so its rankings use the question without them. On the SEC page-level
        yardstick (110 questions) this took page hit@5 from 0.38 to 0.69 (benchmarks/bench_eval.py).
        """
        depth = max(self.candidates, k)
        rankings = [
            [cid for cid, _ in self.store.dense_search(vector, depth, self._scope)] if vector is not None else [],
            [cid for cid, _ in self.store.keyword_search(self._keyword_expression(query), depth, self._scope)],
        ]
        fused = dict(reciprocal_rank_fusion(rankings))
        weights = self.named_weights(query)
        if weights and vector is not None:
            self._add_named_rankings(fused, query, vector, weights, depth)
        if not asks_for_boilerplate(set(query_terms(query))):
            for cid in self._on_boilerplate_pages(list(fused)):
                fused[cid] *= BOILERPLATE_FACTOR
        return self._one_per_page_first(sorted(fused.items(), key=lambda kv: kv[1], reverse=True))[:k]

    def _add_named_rankings(self, fused: dict[int, float], query: str, vector: np.ndarray,
                            weights: dict[int, float], depth: int) -> None:
        naming = self._namer.label_words(weights)
        rest = content_terms(query, naming) or content_terms(query) or query_terms(query)
        match = self._keyword_expression(" ".join(rest))
        if rest != query_terms(query):
            vector = self.embedder.embed([" ".join(rest)])[0]
        for doc_id, weight in weights.items():
            within = [
                [cid for cid, _ in self.store.dense_search(vector, depth, doc_ids=[doc_id])],
                [cid for cid, _ in self.store.keyword_search(match, depth, doc_ids=[doc_id])],
            ]
            for cid, score in reciprocal_rank_fusion(within):
                fused[cid] = fused.get(cid, 0.0) + NAMED_WEIGHT * weight * score

    def _on_boilerplate_pages(self, chunk_ids: Sequence[int]) -> list[int]:
        unknown = [cid for cid in chunk_ids if cid not in self._boilerplate]
        if unknown:
            if len(self._boilerplate) > BOILERPLATE_CACHE:
                self._boilerplate.clear()
            starts = self.store.page_starts(unknown)
            texts = self.store.page_texts(starts.values())
            for cid in unknown:
                page = starts.get(cid)
                self._boilerplate[cid] = page is not None and is_boilerplate(texts.get(page, ""))
        return [cid for cid in chunk_ids if self._boilerplate.get(cid)]

    def _one_per_page_first(self, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The best passage of each page first, in score order, then the pages' other passages:
        five results from five pages show the user (and the model) more than five from two."""
        starts = self.store.page_starts([cid for cid, _ in scored])
        seen: set[tuple[int, int]] = set()
        first, later = [], []
        for cid, score in scored:
            page = starts.get(cid)
            (later if page in seen else first).append((cid, score))
            seen.add(page)  # type: ignore[arg-type]
        return first + later

    def _keyword_expression(self, query: str) -> str:
        """The query's words without the ones in thousands of passages (BM25 gives them little
        weight, and scoring all their matches is what makes keyword search slow in big libraries).

        A question made only of such words asks for passages holding its three (else two, else
        one) rarest words together: a precise query that matches few passages.
        """
        keywords = self.store.keywords
        terms = query_terms(query)
        rare = [t for t in terms if not keywords.is_common(t)]
        if rare or not terms:
            return fts_match_expression(" ".join(rare))
        by_rarity = sorted(terms, key=keywords.term_chunks)
        for size in range(min(3, len(by_rarity)), 1, -1):
            together = " AND ".join(f'"{term}"' for term in by_rarity[:size])
            if keywords.has_match(together):
                return together
        return f'"{by_rarity[0]}"'

    def named_documents(self, query: str) -> list[int]:
        """The documents the question is about (see :meth:`named_weights`), by id."""
        return sorted(self.named_weights(query))

    def naming_words(self, query: str) -> frozenset[str]:
        """The words that name the documents the question names ("apple", "q2", "2023"): every
        passage of those documents matches them, so they say nothing about which one answers."""
        return self._namer.label_words(self.named_weights(query))

    def named_weights(self, query: str) -> dict[int, float]:
        """{doc id: weight in (0, 1]} of the documents the question names.

        Documents scoring at least half the best (:class:`DocumentNamer`) are named, at most
        five, weighted by ``(score / best) ** 2``; none when the documents nearly tied with the
        best are a third of the library or more: then the question singles nothing out.
        """
        profiles = self.store.document_profiles(COVER_CHARS)
        if self._scope is not None:
            allowed = set(self._scope)
            profiles = [p for p in profiles if p.doc_id in allowed]
        scores = self._namer.scores(query, profiles, self.store.keywords.term_document_counts)
        best = max(scores.values(), default=0.0)
        leaders = sum(1 for s in scores.values() if s >= NAMED_TIE_SHARE * best)
        if best <= 0 or leaders >= len(profiles) * NAMED_MAX_SHARE:
            return {}
        chosen = sorted((d for d, s in scores.items() if s >= NAMED_RELATIVE_SCORE * best),
                        key=lambda d: scores[d], reverse=True)
        return {d: (scores[d] / best) ** NAMED_SHARPNESS for d in chosen[:NAMED_MAX_DOCUMENTS]}

    def _dense(self, vector: np.ndarray | None, k: int) -> list[tuple[int, float]]:
        return [] if vector is None else self.store.dense_search(vector, k, self._scope)

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
                    end_offset=row["end_offset"], score=score, text=row["text"])
            )
        return hits
