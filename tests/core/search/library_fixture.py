"""A small library of four indexed documents (fake embedder) for the search tests: import the fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import run_to_end

DOCS = {
    "2023 Q1 ACME.pdf": ["ACME revenue rose to 12 million dollars.", "ACME hired new engineers in Ohio."],
    "2023 Q2 ACME.pdf": ["ACME revenue fell to 9 million dollars.", "Weather delayed shipments."],
    "2023 Q1 BOLT.pdf": ["BOLT revenue rose to 40 million dollars.", "BOLT opened a plant in Texas."],
    "garden.pdf": ["Tomatoes need sun and water.", "Prune roses in early spring."],
}


@pytest.fixture
def library(tmp_path: Path) -> tuple[Store, HashEmbedder]:
    for name, pages in DOCS.items():
        write_pdf(tmp_path / name, pages)
    store = Store(tmp_path / "data")
    embedder = HashEmbedder()
    with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as extractor:
        report = run_to_end(Ingestion(store, embedder, extractor, ChunkOptions(12, 2)).run([tmp_path]))
    assert len(report.indexed) == len(DOCS)
    yield store, embedder
    store.close()
