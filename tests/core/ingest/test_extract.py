"""File -> pages, with real PDFs; every bad input gets its own error class and a message naming the file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from pdfs import encrypt_pdf, flate_bomb_pdf, make_pdf, write_pdf

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S
from desktop_rag.core.ingest.extract import PdfExtractor, normalize_page_text
from desktop_rag.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    ExtractionLimitError,
    FileAccessError,
    InputFileError,
    NoTextError,
    NotAPdfError,
)

PAGES = [
    "Alpha page talks about revenue growth in the first quarter.",
    "Beta page describes operating costs and research spending.",
    "Gamma page lists the risk factors of the company.",
]
LINE = "The quarterly report lists revenue, costs and other figures for the period. "


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        yield ex


@pytest.fixture
def good_pdf(tmp_path: Path) -> Path:
    return write_pdf(tmp_path / "good.pdf", PAGES)


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 full pages: about half a second of parsing."""
    pages = [f"Page marker {i}. " + LINE * 40 for i in range(1, 601)]
    return write_pdf(tmp_path_factory.mktemp("long") / "long.pdf", pages)


# ------------------------------------------------------------------ good files


def test_pages_are_numbered_from_one_with_their_text(extractor: PdfExtractor, good_pdf: Path) -> None:
    pages = extractor.extract_document(good_pdf).pages
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.text.strip() for p in pages] == PAGES


def test_long_wrapped_page_keeps_all_its_words_in_order(extractor: PdfExtractor, tmp_path: Path) -> None:
    text = " ".join(f"word{i}" for i in range(400))  # wrapped onto several lines by the PDF writer
    [page] = extractor.extract_document(write_pdf(tmp_path / "wrapped.pdf", [text])).pages
    assert page.text.split() == text.split()


def test_a_fresh_extractor_with_the_default_limits_matches_the_shared_one(good_pdf: Path) -> None:
    with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as ex:
        assert [p.text.strip() for p in ex.extract_document(good_pdf).pages] == PAGES


def test_empty_user_password_opens_and_yields_text(extractor: PdfExtractor, good_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_pdf(good_pdf, tmp_path / "permissions-only.pdf", user_password="")
    assert b"/Encrypt" in locked.read_bytes()
    pages = extractor.extract_document(locked).pages
    assert [p.text.strip() for p in pages] == PAGES


def test_normalize_page_text_unifies_line_breaks_and_drops_control_characters() -> None:
    assert normalize_page_text("a\r\nb\rc\x00d\x0ce\tf\n") == "a\nb\ncde\tf\n"


# ------------------------------------------------------------------ bad files


def _raises(extractor: PdfExtractor, path: Path, error: type[InputFileError]) -> InputFileError:
    with pytest.raises(error) as info:
        extractor.extract_document(path)
    assert type(info.value) is error  # the specific class, not a sibling or the base
    assert info.value.path == str(path)
    assert path.name in str(info.value)
    return info.value


def test_text_file_renamed_pdf_is_not_a_pdf(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("Just some notes, not a PDF at all.\n" * 20)
    assert "not a PDF" in str(_raises(extractor, path, NotAPdfError))


def test_zero_byte_file_is_not_a_pdf(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert "0 bytes" in str(_raises(extractor, path, NotAPdfError))


def test_truncated_download_is_corrupt(extractor: PdfExtractor, tmp_path: Path) -> None:
    data = make_pdf(PAGES)
    path = tmp_path / "half.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in str(_raises(extractor, path, CorruptPdfError))


def test_damaged_body_with_an_eof_marker_is_corrupt(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = tmp_path / "damaged.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    assert "damaged" in str(_raises(extractor, path, CorruptPdfError))


def test_password_protected_pdf_is_encrypted(extractor: PdfExtractor, good_pdf: Path, tmp_path: Path) -> None:
    locked = encrypt_pdf(good_pdf, tmp_path / "locked.pdf", user_password="s3cret")
    assert "password" in str(_raises(extractor, locked, EncryptedPdfError))


def test_scanned_pdf_without_text_layer_has_no_text(extractor: PdfExtractor, tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", ["ignored", "ignored"], scanned=True)
    message = str(_raises(extractor, path, NoTextError))
    assert "no text on any of its 2 pages, only images" in message and "OCR" in message


def test_missing_file_is_a_file_access_error(extractor: PdfExtractor, tmp_path: Path) -> None:
    assert "not found" in str(_raises(extractor, tmp_path / "gone.pdf", FileAccessError))


def test_directory_is_a_file_access_error(extractor: PdfExtractor, tmp_path: Path) -> None:
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    assert "folder" in str(_raises(extractor, folder, FileAccessError))


def test_extractor_keeps_working_after_every_kind_of_failure(extractor: PdfExtractor, tmp_path: Path) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\ngarbage\n%%EOF\n")
    for bad in ("bad.pdf", "missing.pdf"):
        with pytest.raises(InputFileError):
            extractor.extract_document(tmp_path / bad)
        pages = extractor.extract_document(write_pdf(tmp_path / f"after-{bad}", ["Still fine afterwards."])).pages
        assert pages[0].text.strip() == "Still fine afterwards."


# ------------------------------------------------------------------ limits


def test_parse_past_the_time_limit_is_stopped_and_the_next_file_works(long_pdf: Path, good_pdf: Path) -> None:
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        assert len(ex.extract_document(long_pdf).pages) == 600  # the file itself is fine, only slow
        ex.timeout_s = 0.02
        started = time.monotonic()
        error = _raises(ex, long_pdf, ExtractionLimitError)
        assert time.monotonic() - started < 5, "the parent must not wait for the parser to finish"
        assert "0.02 s limit" in str(error)
        ex.timeout_s = 60
        assert [p.text.strip() for p in ex.extract_document(good_pdf).pages] == PAGES


def test_cold_start_with_a_tiny_timeout_is_a_limit_error(long_pdf: Path) -> None:
    with PdfExtractor(timeout_s=0.001, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        _raises(ex, long_pdf, ExtractionLimitError)


def test_decompression_bomb_hits_the_memory_limit_without_crashing(tmp_path: Path, good_pdf: Path) -> None:
    bomb = flate_bomb_pdf(tmp_path / "bomb.pdf", inflated_mb=256)
    assert bomb.stat().st_size < 5 << 20
    with PdfExtractor(timeout_s=60, memory_mb=64) as ex:
        error = _raises(ex, bomb, ExtractionLimitError)
        assert "64 MB" in str(error)
        assert [p.text.strip() for p in ex.extract_document(good_pdf).pages] == PAGES  # a fresh child takes over
    # With room to breathe the same file parses: the limit, not the file, stopped it.
    with PdfExtractor(timeout_s=60, memory_mb=2048) as ex:
        assert ex.extract_document(bomb).pages[0].text.strip() == "Bomb payload text"


@pytest.mark.parametrize("memory_mb", [16, 20, 24, 28, 32])
def test_tiny_memory_limit_is_never_reported_as_a_damaged_file(memory_mb: int, good_pdf: Path) -> None:
    """Under a small cap even loading the parser fails; that must read as the limit, not a corrupt PDF."""
    with PdfExtractor(timeout_s=60, memory_mb=memory_mb) as ex:
        try:
            pages = ex.extract_document(good_pdf).pages
        except ExtractionLimitError as exc:
            assert f"{memory_mb} MB" in str(exc)
        else:
            assert [p.text.strip() for p in pages] == PAGES
    if memory_mb == 16:  # the interpreter alone nearly fills 16 MB: this one must be the limit
        with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, 16) as ex, pytest.raises(ExtractionLimitError):
            ex.extract_document(good_pdf)


# ------------------------------------------------------------------ the corpus


def test_msft_filing_that_pypdf_rejects_is_extracted_completely(corpus: Path, extractor: PdfExtractor) -> None:
    import pypdfium2

    path = corpus / "docs" / "2023 Q1 MSFT.pdf"
    document = pypdfium2.PdfDocument(path)
    try:
        page_count = len(document)
    finally:
        document.close()
    pages = extractor.extract_document(path).pages
    assert [p.number for p in pages] == list(range(1, page_count + 1))
    assert page_count > 50
    assert all(p.text.strip() for p in pages), "every page of the filing has a text layer"
    text = "\n".join(p.text for p in pages)
    assert "FORM 10-Q" in pages[0].text and "December 31, 2022" in pages[0].text
    assert "$31.5 billion" in text  # share repurchases left, per the corpus Q&A
    assert "Chief Financial Officer" in pages[-1].text
