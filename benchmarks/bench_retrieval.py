"""Retrieval benchmark: latency per mode and document-level hit@5 on the SEC corpus; latency at 100k chunks.

1. On a data dir holding the 20 SEC filings (ingest them first, or pass --ingest), for each of the
   195 questions of qna_data.csv and each mode (dense, keyword, hybrid): search latency including
   the query embedding (p50, p95, max) and document-level hit@5 (a gold document, from the
   ``Source Docs`` glob, among the files of the top 5 hits).
2. --scale N: a synthetic store of N chunks (real SEC chunk texts repeated over many documents,
   random unit vectors) in a temp dir, and the same latency figures for hybrid search on it.

Prints tables; asserts nothing.
Usage: python benchmarks/bench_retrieval.py --data-dir DIR [--ingest] [--scale 100000]
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import CORPUS, DOCS, table  # noqa: E402

from desktop_rag.config import load_settings  # noqa: E402
from desktop_rag.core.types import RetrievalMode  # noqa: E402
from desktop_rag.services import Services  # noqa: E402


def load_questions() -> list[tuple[str, str]]:
    with (CORPUS / "qna_data.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [(row["Question"], row["Source Docs"]) for row in csv.DictReader(fh)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(services: Services, questions: list[tuple[str, str]], k: int = 5) -> list[tuple[str, ...]]:
    retriever = services.retriever()
    retriever.search("warm up the models and the index", k=k, mode=RetrievalMode.HYBRID)
    rows = [("mode", "questions", "doc hit@5", "p50 ms", "p95 ms", "max ms")]
    for mode in RetrievalMode:
        latencies, hits = [], 0
        for question, gold_glob in questions:
            started = time.perf_counter()
            found = retriever.search(question, k=k, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            if any(fnmatch.fnmatch(h.file, gold_glob) for h in found):
                hits += 1
        rows.append((mode, str(len(questions)), f"{100 * hits / len(questions):.1f}%",
                     f"{statistics.median(latencies):.1f}", f"{percentile(latencies, 95):.1f}",
                     f"{max(latencies):.1f}"))
    return rows


def build_scale_store(source: Services, n_chunks: int, data: Path) -> Services:
    """N chunks across N/1000 documents: real texts, random unit vectors, one transaction per doc."""
    from desktop_rag.core.types import Chunk, Page

    texts = [r[0] for r in source.store._db.execute("SELECT text FROM chunks").fetchall()]
    dim = source.embedder.dimension
    target = Services(load_settings(overrides={"data_dir": str(data)}), embedder=source.embedder)
    rng = np.random.default_rng(0)
    per_doc = 1000
    for d in range(n_chunks // per_doc):
        chunk_texts = [texts[(d * per_doc + i) % len(texts)] for i in range(per_doc)]
        chunks = [Chunk(i, t, 1, 1, 0, len(t), 200) for i, t in enumerate(chunk_texts)]
        vectors = rng.standard_normal((per_doc, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        target.store.add_document(path=f"/synthetic/doc{d:04d}.pdf", sha256=f"{d:064x}", size=1, mtime=0.0,
                                  pages=[Page(1, "")], chunks=chunks, vectors=vectors,
                                  model_id=source.embedder.model_id)
    target.store.save_index()
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--ingest", action="store_true", help="ingest the SEC corpus into --data-dir first")
    parser.add_argument("--scale", type=int, default=0, help="also measure on a synthetic store of N chunks")
    args = parser.parse_args()
    if args.ingest:
        subprocess.run([sys.executable, "-m", "desktop_rag", "--data-dir", args.data_dir, "ingest", str(DOCS)],
                       check=False)
    services = Services(load_settings(overrides={"data_dir": args.data_dir}))
    questions = load_questions()
    print(f"SEC corpus: {services.store.stats()}")
    print(table(measure(services, questions)))
    if args.scale:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            started = time.perf_counter()
            scaled = build_scale_store(services, args.scale, Path(tmp))
            print(f"\nsynthetic store: {scaled.store.stats()} (built in {time.perf_counter() - started:.0f} s)")
            print(table(measure(scaled, questions)))
            scaled.close()
    services.close()


if __name__ == "__main__":
    main()
