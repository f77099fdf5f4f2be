"""Builds scanned (image-only) PDFs for the OCR tests: text pages rendered to pictures and wrapped again."""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import Iterator, Sequence

import pytest
from pdfs import serialize_pdf, write_pdf

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB
from desktop_rag.core.ingest.extract import PdfExtractor

SCAN_DPI = 150.0
# two pages of plain sentences the OCR tests read back from their scans
HARBOUR = "Lighthouse keepers record the harbour tides every morning before the fishing boats leave."
ORCHARD = "The orchard harvest of apples and pears doubled after the rainy spring this year."


def scanned_copy(text_pdf: Path, target: Path, dpi: float = SCAN_DPI) -> Path:
    """Every page of ``text_pdf`` as a picture only (no text layer), at ``dpi``, the page size kept."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(text_pdf))
    try:
        images = [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    target.write_bytes(buffer.getvalue())
    return target


def write_scan(target: Path, pages: Sequence[str]) -> Path:
    """A scanned PDF whose pages show ``pages`` (Helvetica, as :func:`pdfs.write_pdf` writes them)."""
    source = write_pdf(target.with_name(target.stem + "-text.pdf"), pages)
    return scanned_copy(source, target)


def joined(target: Path, *parts: Path) -> Path:
    """One PDF with the pages of ``parts`` in order (a text page beside a scanned one: a mixed document)."""
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for part in parts:
        source = pdfium.PdfDocument(str(part))
        out.import_pages(source)
        source.close()
    out.save(str(target))
    out.close()
    return target


def huge_image_pdf(width: int = 40_000, height: int = 40_000) -> bytes:
    """One page that draws a gray image declared ``width`` x ``height`` pixels (1.6 GB decoded): a
    decompression bomb for a renderer. Its data is a few bytes; nothing may try to decode it."""
    pixels = zlib.compress(b"\x80" * 4096)
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
             b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, len(pixels))
             + pixels + b"\nendstream")
    content = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
    return serialize_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        image,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


@pytest.fixture(scope="module")
def ocr_extractor() -> Iterator[PdfExtractor]:
    """One extraction child for a module's OCR tests (OCR is slow: a minute's timeout)."""
    with PdfExtractor(timeout_s=60, memory_mb=DEFAULT_EXTRACT_MEMORY_MB) as ex:
        yield ex
