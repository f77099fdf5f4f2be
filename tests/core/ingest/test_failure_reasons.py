"""What the user reads when a PDF cannot be indexed: a plain reason, never a parser's own words.

The parsers say "PDFium: Success", "AssertionError: ", "Install it with: pip install pypdf[brotli]";
those go to the log. Files that are not damaged but use a feature no parser here reads (Brotli
compression, an RC4 key size, an unknown security handler) say so, and only pages that hold images
are called a probable scan.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from pdfs import (blank_page_pdf, brotli_content_pdf, brotli_object_stream_pdf, encrypt_pdf, make_pdf, reencrypted,
                  serialize_pdf, shading_pdf, write_pdf)

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.errors import CorruptPdfError, EncryptedPdfError, InputFileError, NoTextError, UnsupportedPdfError

DAMAGED = "the PDF is damaged and cannot be read"
COMPRESSION = "the PDF uses a compression method this program cannot read"
CIPHER = "the PDF is encrypted with an unsupported method"
NO_TEXT = "no text on its one page"
SCAN = ", only images, and OCR found no readable text in them"  # a grey picture: OCR reads nothing in it
# what a parser says, which a desktop user must never read
PARSER_WORDS = ("pip", "install", "PDFium", "pdfium", "pypdf", "Error", "Success", "(", "assert")


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        yield ex


def _plain(tmp: Path) -> Path:
    return write_pdf(tmp / "plain.pdf", ["Some text about apples and pears."])


def _rc4_48_bit_key(tmp: Path) -> bytes:  # cryptography's RC4 takes no 48-bit key
    return reencrypted(_plain(tmp), tmp / "x.pdf", "RC4-128", (b"/Length 128", b"/Length 48")).read_bytes()


def _unknown_handler(tmp: Path) -> bytes:
    return reencrypted(_plain(tmp), tmp / "x.pdf", "RC4-128", (b"/Filter /Standard", b"/Filter /FooSec")).read_bytes()


def _cyclic(tmp: Path) -> bytes:
    return serialize_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


# name -> (the file's bytes, made in a folder; the error class; the whole message after "NAME: ")
CASES: dict[str, tuple[Callable[[Path], bytes], type[InputFileError], str]] = {
    "garbage": (lambda tmp: b"%PDF-1.4\n" + bytes(range(256)) * 12 + b"\n%%EOF\n", CorruptPdfError, DAMAGED),
    "zeros": (lambda tmp: b"%PDF-1.4\n" + b"\0" * 5000 + b"%%EOF", CorruptPdfError, DAMAGED),
    "header-only": (lambda tmp: b"%PDF-1.7\n%%EOF\n", CorruptPdfError, DAMAGED),
    "cyclic-page-tree": (_cyclic, CorruptPdfError, DAMAGED),
    "brotli-page": (lambda tmp: brotli_content_pdf(), UnsupportedPdfError, COMPRESSION),
    "brotli-object-stream": (lambda tmp: brotli_object_stream_pdf(), UnsupportedPdfError, COMPRESSION),
    "unknown-filter": (lambda tmp: brotli_content_pdf().replace(b"/BrotliDecode", b"/FooDecode"),
                       UnsupportedPdfError, COMPRESSION),
    "rc4-48-bit-key": (_rc4_48_bit_key, UnsupportedPdfError, CIPHER),
    "unknown-security-handler": (_unknown_handler, UnsupportedPdfError, CIPHER),
    "password": (lambda tmp: encrypt_pdf(_plain(tmp), tmp / "x.pdf", "s3cret").read_bytes(), EncryptedPdfError,
                 "the PDF is encrypted and needs a password"),
    "blank-page": (lambda tmp: blank_page_pdf(), NoTextError, NO_TEXT),
    "shading-only": (lambda tmp: shading_pdf(), NoTextError, NO_TEXT),
    "scan": (lambda tmp: make_pdf(["x"], scanned=True), NoTextError, NO_TEXT + SCAN),
}


@pytest.mark.parametrize("case", CASES)
def test_each_failure_reads_as_a_plain_reason_and_the_detail_goes_to_the_log(
        case: str, extractor: PdfExtractor, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make, error_class, reason = CASES[case]
    data = make(tmp_path)
    path = tmp_path / f"{case}.pdf"
    path.write_bytes(data)
    caplog.set_level(logging.INFO, logger="desktop_rag.core.ingest.extract")
    with pytest.raises(InputFileError) as info:
        extractor.extract_document(path)
    assert type(info.value) is error_class
    assert str(info.value) == f"{case}.pdf: {reason}"
    if error_class in (CorruptPdfError, UnsupportedPdfError):
        assert not any(word in reason for word in PARSER_WORDS)
        logged = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert any(f"{case}.pdf" in m and "the parsers said: pdfium: " in m and "; pypdf: " in m for m in logged)


def test_the_extractor_reads_an_rc4_key_size_pdfium_refuses(extractor: PdfExtractor, tmp_path: Path) -> None:
    """pdfium takes an unusual (valid) RC4 key length for a wrong password; pypdf reads the file."""
    odd = reencrypted(_plain(tmp_path), tmp_path / "odd.pdf", "RC4-128", (b"/Length 128", b"/Length 200"))
    assert extractor.extract_document(odd).pages[0].text.strip() == "Some text about apples and pears."


def test_damaged_copies_of_a_real_filing_read_as_damaged(corpus: Path, extractor: PdfExtractor, tmp_path: Path) -> None:
    real = (corpus / "docs" / "2022 Q3 AAPL.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(real[: len(real) // 2] + b"\n%%EOF\n")  # a cut download with an end marker added
    holed = tmp_path / "holed.pdf"
    holed.write_bytes(real[:2000] + os.urandom(200_000) + real[-3000:])  # its middle overwritten
    for path in (cut, holed):
        with pytest.raises(CorruptPdfError) as info:
            extractor.extract_document(path)
        assert str(info.value) in (f"{path.name}: {DAMAGED}", f"{path.name}: the PDF has no pages")
