"""Scanned pages read by OCR in the extraction child (the real RapidOCR engine and models), with progress,
limits, and a clear reason for each thing that goes wrong."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from pdfs import make_pdf, write_pdf
from scans import HARBOUR, ORCHARD, huge_image_pdf, joined, ocr_extractor, write_scan  # noqa: F401 - the fixture

import desktop_rag.core.ingest.extract as extract
from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.types import IngestProgress, Stage
from desktop_rag.errors import ExtractionLimitError, NoTextError, OcrError



@pytest.fixture(scope="module")
def extractor(ocr_extractor: PdfExtractor) -> PdfExtractor:
    return ocr_extractor


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan(tmp_path_factory.mktemp("scan") / "scan.pdf", [HARBOUR, ORCHARD])


def steps(extractor: PdfExtractor, path: Path) -> tuple[list[IngestProgress], object]:
    """The progress events and the returned document of one extraction."""
    gen = extractor.extract_steps(path, partial(IngestProgress, str(path), Stage.EXTRACTING, 0, 1))
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def words_of(text: str) -> set[str]:
    return {w.strip(".,").lower() for w in text.split()}


def test_a_scanned_pdf_is_read_by_ocr_page_by_page_with_word_boxes(extractor: PdfExtractor, scan: Path) -> None:
    events, doc = steps(extractor, scan)

    assert [e.message for e in events] == ["reading page 1 of 2 (OCR)", "reading page 2 of 2 (OCR)"]
    assert [(e.pages_done, e.pages_total) for e in events] == [(0, 2), (1, 2)]
    assert doc.ocr_pages == 2
    first, second = doc.pages
    assert len(words_of(first.text) & words_of(HARBOUR)) >= 10  # of 14 words
    assert {"orchard", "apples", "pears"} <= words_of(second.text)
    start, end, left, top, right, bottom = next(w for w in first.ocr_words if first.text[w[0]:w[1]] == "Lighthouse")
    assert 40 < left < 60 and 20 < top < right and bottom < 60  # write_pdf draws its first line at x=50, y=32 pt


def test_a_mixed_pdf_has_only_its_scanned_page_read_by_ocr(extractor: PdfExtractor, scan: Path, tmp_path: Path) -> None:
    text_page = write_pdf(tmp_path / "text.pdf", ["Quarterly revenue rose on strong demand for data center products."])
    mixed = joined(tmp_path / "mixed.pdf", text_page, scan)

    events, doc = steps(extractor, mixed)

    assert [e.message for e in events] == ["reading page 2 of 3 (OCR)", "reading page 3 of 3 (OCR)"]
    assert doc.pages[0].ocr_words is None and doc.pages[0].text.startswith("Quarterly revenue rose")
    assert doc.pages[1].ocr_words and "harbour" in words_of(doc.pages[1].text)


def test_with_ocr_off_a_scan_is_refused_and_says_how_to_turn_it_on(scan: Path, tmp_path: Path) -> None:
    mixed = joined(tmp_path / "mixed.pdf", write_pdf(tmp_path / "text.pdf", [ORCHARD]), scan)
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB, ocr=False) as off:
        with pytest.raises(NoTextError, match=r"scan.pdf: no text on any of its 2 pages, only images: it is probably "
                                              r"scanned; turn OCR on in Settings"):
            off.extract_document(scan)
        events, doc = steps(off, mixed)
    assert events == [] and doc.ocr_pages == 0
    assert [bool(p.text.strip()) for p in doc.pages] == [True, False, False]  # as before OCR: text pages only


def test_a_scan_of_no_text_says_ocr_found_none(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = tmp_path / "grey.pdf"
    path.write_bytes(make_pdf(["x"], scanned=True))  # a grey gradient image, no letters
    with pytest.raises(NoTextError, match="grey.pdf: no text on its one page, only images, and OCR found no "
                                          "readable text in them$"):
        extractor.extract_document(path)


def test_a_huge_image_page_is_not_decoded_and_the_reason_names_it(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(huge_image_pdf(40_000, 40_000))
    with pytest.raises(NoTextError, match=r"page 1 could not be read by OCR: its image is too large to read "
                                          r"\(40,000 x 40,000 pixels\)"):
        extractor.extract_document(path)


def fake_engine(folder: Path, body: str) -> Path:
    """A folder holding a stand-in ``rapidocr`` package, put first on the child's path."""
    package = folder / "rapidocr"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return folder


@pytest.mark.parametrize("body, reason", [
    ("raise ImportError('no onnxruntime', name='onnxruntime')", "the OCR engine is not installed (onnxruntime)"),
    ("class RapidOCR: pass", "the OCR model PP-OCRv6_det_small.onnx is missing from the RapidOCR package"),
])
def test_a_missing_or_broken_engine_fails_the_scan_with_its_reason_and_the_next_file_is_read(
        scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, reason: str) -> None:
    monkeypatch.setenv("PYTHONPATH", str(fake_engine(tmp_path / "site", body)))
    good = write_pdf(tmp_path / "good.pdf", [ORCHARD])
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        with pytest.raises(OcrError) as info:
            ex.extract_document(scan)
        assert str(info.value) == (f"scan.pdf: it has scanned pages, and {reason}; turn OCR off in Settings to "
                                   "index only its text pages")
        assert ex.extract_document(good).pages[0].text.strip() == ORCHARD


def test_ocr_under_a_small_memory_limit_stops_with_the_limit_as_its_reason(scan: Path, tmp_path: Path) -> None:
    """The cap holds with the OCR engine loaded: onnxruntime's failed allocation is worded as the limit (or,
    when a library crashes under the cap instead, the child's death is), and a fresh child reads on."""
    with PdfExtractor(timeout_s=60, memory_mb=384) as small:
        with pytest.raises(ExtractionLimitError, match="scan.pdf: parsing stopped: .*384 MB memory limit"):
            small.extract_document(scan)
        assert small.extract_document(write_pdf(tmp_path / "good.pdf", [ORCHARD])).pages[0].text.strip() == ORCHARD


def test_a_page_that_ocr_reads_too_slowly_stops_at_the_page_limit(scan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "OCR_PAGE_LIMIT_S", 0.01)
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        with pytest.raises(ExtractionLimitError, match="reading one page by OCR took longer than the 0.01 s limit"):
            ex.extract_document(scan)


def test_closing_the_extraction_mid_ocr_kills_the_child_and_the_next_file_gets_its_own_pages(
        extractor: PdfExtractor, scan: Path, tmp_path: Path) -> None:
    gen = extractor.extract_steps(scan, partial(IngestProgress, str(scan), Stage.EXTRACTING, 0, 1))
    assert next(gen).message == "reading page 1 of 2 (OCR)"
    gen.close()  # the user cancelled
    good = write_pdf(tmp_path / "good.pdf", [ORCHARD])
    assert [p.text.strip() for p in extractor.extract_document(good).pages] == [ORCHARD]
