"""Query -> hits: dense (FAISS), keyword (FTS5 BM25), or both fused by reciprocal rank fusion."""

from __future__ import annotations

import logging
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
            depth = max(self.candidates, k)
            dense = [cid for cid, _ in self._dense(query, depth)]
            keyword = [cid for cid, _ in self.store.keyword_search(fts_match_expression(query), depth)]
            scored = reciprocal_rank_fusion([dense, keyword])[:k]
        else:
            raise ValueError(f"unknown retrieval mode {mode!r}")
        return self._hits(scored)

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
