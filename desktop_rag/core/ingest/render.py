"""Render a PDF page to pixels and find where a stored passage lies on it. No Qt here.

Passages carry character offsets into *our* page text, which is pdfium's ``get_text_range()``
output passed through :func:`desktop_rag.core.ingest.extract.normalize_page_text` (``\\r\\n`` and ``\\r``
become ``\\n``, control characters are dropped). To highlight a passage we replay that
normalization to map each offset back to an index in pdfium's raw text (a UTF-16 "text index"),
translate text indices to pdfium char indices with ``FPDFText_GetCharIndexFromTextIndex``, and
ask pdfium for the rectangles covering that char range (``count_rects``/``get_rect``).

Pages that were extracted by the pypdf fallback have different text; their offsets cannot be
mapped, and :func:`render_page` then highlights nothing rather than the wrong words.

PDFium is not thread-safe (two renders at once crash the process), so every call into it here
holds one process-wide lock. Extraction runs pdfium in a child process and needs no lock.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from desktop_rag.core.ingest.extract import normalize_page_text
from desktop_rag.errors import CorruptPdfError, FileAccessError

log = logging.getLogger(__name__)

POINTS_PER_INCH = 72.0
DEFAULT_DPI = 120.0

Rect = tuple[float, float, float, float]  # left, top, right, bottom
PDFIUM_LOCK = threading.RLock()


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An RGBA image of one page; ``highlights`` are rectangles in image pixels (top-left origin)."""

    path: str
    number: int
    page_count: int
    width: int
    height: int
    stride: int
    rgba: bytes
    highlights: tuple[Rect, ...] = field(default_factory=tuple)


def raw_text_indices(raw: str) -> list[int]:
    """For each character of ``normalize_page_text(raw)``, its index in ``raw``.

    One extra entry at the end maps the end offset (exclusive) to ``len(raw)``.
    """
    mapping: list[int] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\r":
            mapping.append(i)  # "\r\n" and "\r" both become one "\n"
            i += 2 if raw[i + 1:i + 2] == "\n" else 1
            continue
        if normalize_page_text(ch):
            mapping.append(i)
        i += 1
    mapping.append(len(raw))
    return mapping


def utf16_indices(raw: str) -> list[int]:
    """For each index of ``raw`` (plus its end), the UTF-16 unit index pdfium counts in."""
    out, unit = [], 0
    for ch in raw:
        out.append(unit)
        unit += 2 if ord(ch) > 0xFFFF else 1
    out.append(unit)
    return out


def _open(path: str | os.PathLike[str]):  # noqa: ANN202 - a pdfium document
    import pypdfium2 as pdfium

    p = Path(path)
    if not p.is_file():
        raise FileAccessError(str(p), f"{p}: file not found (was it moved or deleted?)")
    try:
        return pdfium.PdfDocument(str(p))
    except pdfium.PdfiumError as exc:
        raise CorruptPdfError(str(p), f"{p.name}: cannot be opened for preview ({exc})") from exc


def _char_range(textpage, raw: str, start: int, end: int) -> tuple[int, int] | None:  # noqa: ANN001
    """pdfium char indices [first, last] of normalized offsets [start, end), or None."""
    import pypdfium2.raw as pdfium_c

    to_raw = raw_text_indices(raw)
    if start >= end or start >= len(to_raw) - 1:
        return None
    to_unit = utf16_indices(raw)
    first_unit = to_unit[to_raw[start]]
    last_unit = to_unit[to_raw[min(end, len(to_raw) - 1)]] - 1
    first = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, first_unit)
    last = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, max(first_unit, last_unit))
    if first < 0 or last < 0:
        return None
    return first, last


def _rects_on(textpage, page_height: float, start: int, end: int, expected: str | None) -> list[Rect]:  # noqa: ANN001
    """Rectangles in PDF points (top-left origin) covering normalized offsets [start, end)."""
    raw = textpage.get_text_range()
    if expected is not None and normalize_page_text(raw) != expected:
        log.info("page text differs from the stored text (pypdf fallback?); no highlight")
        return []
    span = _char_range(textpage, raw, start, end)
    if span is None:
        return []
    first, last = span
    count = textpage.count_rects(first, last - first + 1)
    rects = []
    for i in range(count):
        left, bottom, right, top = textpage.get_rect(i)
        if right > left and top > bottom:
            rects.append((left, page_height - top, right, page_height - bottom))
    return rects


def render_page(
    path: str | os.PathLike[str],
    page_number: int,
    *,
    dpi: float = DEFAULT_DPI,
    highlight: tuple[int, int] | None = None,
    page_text: str | None = None,
) -> RenderedPage:
    """Render page ``page_number`` (1-based) to RGBA, with the passage ``highlight`` located on it."""
    with PDFIUM_LOCK:
        return _render(path, page_number, dpi, highlight, page_text)


def _render(path: str | os.PathLike[str], page_number: int, dpi: float, highlight: tuple[int, int] | None,
            page_text: str | None) -> RenderedPage:
    import pypdfium2.raw as pdfium_c

    doc = _open(path)
    try:
        count = len(doc)
        if not 1 <= page_number <= count:
            raise CorruptPdfError(str(path), f"{Path(path).name} has {count} pages; page {page_number} is gone "
                                  "(the file changed since it was indexed - re-index it)")
        page = doc[page_number - 1]
        try:
            scale = dpi / POINTS_PER_INCH
            bitmap = page.render(scale=scale, force_bitmap_format=pdfium_c.FPDFBitmap_BGRA, rev_byteorder=True,
                                 may_draw_forms=True)  # BGRA with reversed byte order = RGBA8888
            rects: list[Rect] = []
            if highlight is not None:
                textpage = page.get_textpage()
                try:
                    rects = _rects_on(textpage, page.get_height(), highlight[0], highlight[1], page_text)
                finally:
                    textpage.close()
            pixels = tuple((x0 * scale, y0 * scale, x1 * scale, y1 * scale) for x0, y0, x1, y1 in rects)
            try:
                return RenderedPage(str(path), page_number, count, bitmap.width, bitmap.height, bitmap.stride,
                                    bytes(bitmap.buffer), pixels)
            finally:
                bitmap.close()  # now, under the lock, not later by the garbage collector in another thread
        finally:
            page.close()
    finally:
        doc.close()
