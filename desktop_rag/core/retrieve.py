"""Query -> hits: dense (FAISS), keyword (FTS5 BM25), or both fused by reciprocal rank fusion."""

from __future__ import annotations

import logging
import math
import re
from typing import Sequence

from desktop_rag.core.embedding import Embedder
from desktop_rag.core.store import Store
from desktop_rag.core.types import Hit

log = logging.getLogger(__name__)

RRF_K = 60
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves tell give describe explain list please""".split()
)


def query_terms(query: str) -> list[str]:
    """Distinct lower-case content words of a query, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)


def fts_match_expression(query: str) -> str:
    """An FTS5 query that ORs the quoted content words (user text never reaches FTS syntax)."""
    return " OR ".join(f'"{term}"' for term in query_terms(query))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


class Retriever:
    """Searches one store with one embedder."""

    def __init__(self, store: Store, embedder: Embedder, candidates: int = 50) -> None:
        self.store, self.embedder, self.candidates = store, embedder, candidates

    def search(self, query: str, k: int = 6, mode: str = "hybrid") -> list[Hit]:
        query = query.strip()
        if not query or k <= 0:
            return []
        if mode == "dense":
            scored = self._dense(query, k)
        elif mode == "keyword":
            scored = self.store.keyword_search(fts_match_expression(query), k)
        elif mode == "hybrid":
            scored = self._hybrid(query, k)
        else:
            raise ValueError(f"unknown retrieval mode {mode!r}")
        return self._hits(scored)

    def _hybrid(self, query: str, k: int) -> list[tuple[int, float]]:
        """RRF of dense and keyword rankings, plus both again within documents the question names."""
        depth = max(self.candidates, k)
        vector = self.embedder.embed([query])[0] if self.store.chunk_count() else None
        match = fts_match_expression(query)
        rankings = [
            [cid for cid, _ in self.store.dense_search(vector, depth)] if vector is not None else [],
            [cid for cid, _ in self.store.keyword_search(match, depth)],
        ]
        named = self.named_documents(query)
        if named and vector is not None:
            rankings.append([cid for cid, _ in self.store.dense_search(vector, depth, doc_ids=named)])
            rankings.append([cid for cid, _ in self.store.keyword_search(match, depth, doc_ids=named)])
        return reciprocal_rank_fusion(rankings)[:k]

    def named_documents(self, query: str) -> list[int]:
        """Documents whose file name or title the question mentions, e.g. "the 2023 Q1 MSFT filing".

        Label words are weighted by rarity across the library (a year shared by every file names
        nothing); the best-matching documents are kept unless they are most of the library.
        """
        terms = set(query_terms(query))
        labels = [(doc_id, set(query_terms(label)) - {"pdf"}) for doc_id, label in self.store.document_labels()]
        if not terms or len(labels) < 2:
            return []
        df: dict[str, int] = {}
        for _, words in labels:
            for word in words:
                df[word] = df.get(word, 0) + 1
        scores = {doc_id: sum(math.log(len(labels) / df[w]) for w in words & terms) for doc_id, words in labels}
        best = max(scores.values())
        if best <= 0:
            return []
        chosen = [doc_id for doc_id, score in scores.items() if score >= 0.999 * best]
        return chosen if len(chosen) <= len(labels) // 2 else []

    def _dense(self, query: str, k: int) -> list[tuple[int, float]]:
        if self.store.chunk_count() == 0:
            return []
        vector = self.embedder.embed([query])[0]
        return self.store.dense_search(vector, k)

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
