"""A synthetic library big enough to tune (one passage per page, words of its own), for the tune tests."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from fakes import HashEmbedder

from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, Page

SUBJECTS = ["revenue", "inventory", "litigation", "warranty", "pension", "goodwill", "leases", "derivatives",
            "taxation", "research", "marketing", "logistics", "semiconductor", "cloud", "advertising", "retail"]
FILLER = ["company", "quarter", "reported", "during", "period", "results", "increase", "decrease", "compared",
          "primarily", "fiscal", "segment", "operations", "million", "billion", "expected", "management"]


def page_text(rng: random.Random, doc: int, page: int) -> str:
    """Four sentences naming words found on this page only (so questions can be answered)."""
    own = [f"{rng.choice(SUBJECTS)}{doc}x{page}{k}" for k in range(3)]
    sentences = []
    for s in range(4):
        words = rng.sample(FILLER, 8) + [own[s % 3], rng.choice(SUBJECTS)]
        rng.shuffle(words)
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def build_library(folder: Path, docs: int = 10, pages: int = 25, embedder: HashEmbedder | None = None,
                  seed: int = 0) -> Store:
    """``docs`` documents of ``pages`` pages, one chunk per page, embedded by ``embedder``."""
    embedder = embedder or HashEmbedder()
    rng = random.Random(seed)
    store = Store(folder)
    for d in range(docs):
        texts = [page_text(rng, d, p) for p in range(1, pages + 1)]
        page_list = [Page(p, t) for p, t in enumerate(texts, 1)]
        chunks = [Chunk(i, t, i + 1, i + 1, 0, len(t), len(t.split())) for i, t in enumerate(texts)]
        store.add_document(path=str(folder / f"report{d}.pdf"), sha256=f"{d:064d}", size=1, mtime=0.0,
                           pages=page_list, chunks=chunks, vectors=embedder.embed(texts), model_id=embedder.model_id)
    return store


def vectors_of(store: Store) -> np.ndarray:
    rows = store._db.execute("SELECT vector FROM chunks ORDER BY id").fetchall()
    return np.stack([np.frombuffer(r[0], np.float32) for r in rows])
