"""Pages read by OCR in the library: indexed with progress, their word boxes stored with them and gone
with them, counted per document, highlighted on the scanned image; libraries from before OCR open as usual."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf
from scans import HARBOUR, ORCHARD, ocr_extractor, write_scan  # noqa: F401 - the fixture

from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.ingest.render import render_page
from desktop_rag.core.store.library import DB_NAME, Store
from desktop_rag.core.types import Events, IngestProgress, Stage



@pytest.fixture(scope="module")
def extractor(ocr_extractor: PdfExtractor) -> PdfExtractor:
    return ocr_extractor


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docs")
    return {"scan": write_scan(folder / "scan.pdf", [HARBOUR, ORCHARD]),
            "text": write_pdf(folder / "text.pdf", ["Quarterly revenue rose on strong demand."])}


def ingest(store: Store, extractor: PdfExtractor, paths: list[Path]) -> list[IngestProgress]:
    events = Events(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(60, 8)).run(paths))
    return list(events)


def test_a_scan_is_indexed_with_ocr_progress_and_its_boxes_are_stored_and_removed_with_it(
        tmp_path: Path, extractor: PdfExtractor, files: dict[str, Path]) -> None:
    with Store(tmp_path / "lib") as store:
        events = ingest(store, extractor, [files["scan"], files["text"]])
        ocr = [(e.stage, e.message) for e in events if "(OCR)" in e.message]
        docs = {d.name: d for d in store.documents()}
        scan = docs["scan.pdf"]
        boxes = store.page_words.of(scan.id, 1)
        store.remove_document(scan.id)
        left = store._db.execute("SELECT count(*) FROM page_words").fetchone()[0]

    assert ocr == [(Stage.EXTRACTING, "reading page 1 of 2 (OCR)"), (Stage.EXTRACTING, "reading page 2 of 2 (OCR)")]
    assert (scan.ocr_pages, docs["text.pdf"].ocr_pages) == (2, 0)
    assert boxes and all(len(b) == 6 for b in boxes)
    assert left == 0


def test_a_passage_on_a_scanned_page_is_highlighted_where_the_words_are_on_the_image(
        tmp_path: Path, extractor: PdfExtractor, files: dict[str, Path]) -> None:
    with Store(tmp_path / "lib") as store:
        ingest(store, extractor, [files["scan"]])
        doc = store.documents()[0]
        text, words = store.page_text(doc.id, 2), store.page_words.of(doc.id, 2)
    start = text.lower().index("orchard")
    scanned = render_page(files["scan"], 2, dpi=72, highlight=(start, start + 7), page_text=text, words=words)
    source = Path(str(files["scan"]).replace("scan.pdf", "scan-text.pdf"))  # the text PDF the scan was made from
    original = render_page(source, 2, dpi=72, highlight=(4, 11), page_text=None)  # "orchard" in its text layer

    assert len(scanned.highlights) == len(original.highlights) == 1
    (x0, y0, x1, y1), (a0, b0, a1, b1) = scanned.highlights[0], original.highlights[0]
    # the same word: across, the boxes agree within 2 points; OCR's box is a line's height, the glyphs' lower
    assert abs(x0 - a0) < 2 and abs(x1 - a1) < 2
    assert y0 <= b0 and b1 <= y1 and y1 - y0 < 2 * 12  # within two lines of 12 pt leading


def test_a_library_from_before_ocr_is_listed_and_gains_the_table_when_opened_for_writing(
        tmp_path: Path, extractor: PdfExtractor, files: dict[str, Path]) -> None:
    data = tmp_path / "old"
    with Store(data) as store:
        ingest(store, extractor, [files["text"]])
    with sqlite3.connect(data / DB_NAME) as db:
        db.execute("DROP TABLE page_words")  # as an earlier version left it

    with Store(data, read_only=True) as store:
        assert [(d.name, d.ocr_pages) for d in store.documents()] == [("text.pdf", 0)]
    with Store(data) as store:
        ingest(store, extractor, [files["scan"]])
        assert sorted((d.name, d.ocr_pages) for d in store.documents()) == [("scan.pdf", 2), ("text.pdf", 0)]
