"""Render a PDF page to pixels and find where a stored passage lies on it. No Qt here.

Passages carry character offsets into *our* page text, which is pdfium's ``get_text_range()``
output passed through :func:`desktop_rag.core.ingest.extract.normalize_page_text` (``\\r\\n`` and ``\\r``
become ``\\n``, control characters are dropped). To highlight a passage we replay that
normalization to map each offset back to an index in pdfium's raw text (a UTF-16 "text index"),
translate text indices to pdfium char indices with ``FPDFText_GetCharIndexFromTextIndex``, and
ask pdfium for the rectangles covering that char range (``count_rects``/``get_rect``).

Pages that were extracted by the pypdf fallback have different text; their offsets cannot be
mapped, and :func:`render_page` then highlights nothing rather than the wrong words.

A page read by OCR (a scan) has no text layer: its words' boxes, stored with it (see
:mod:`desktop_rag.core.ingest.ocr`), are passed in as ``words``, and the passage is highlighted
over the words it covers, one rectangle per line (:func:`word_rects`).

A document in another format (.docx, .md, .html, .txt) has no page image: its preview is the
stored text of the cited section with the passage's character span marked (:func:`text_section`).

PDFium is not thread-safe (two renders at once crash the process), so every call into it here
holds one process-wide lock. Extraction runs pdfium in a child process and needs no lock.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.ingest.extract import normalize_page_text
from desktop_rag.core.ingest.formats import is_pdf, place_label
from desktop_rag.core.types import WordBox
from desktop_rag.errors import CorruptPdfError, FileAccessError

log = logging.getLogger(__name__)

POINTS_PER_INCH = 72.0
DEFAULT_DPI = 120.0

Rect = tuple[float, float, float, float]  # left, top, right, bottom
PDFIUM_LOCK = threading.RLock()
OCR_BOX_TRIM = 0.15  # of an OCR word box's height, off its top and its bottom (see word_rects)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An RGBA image of one page; ``highlights`` are rectangles in image pixels (top-left origin).

    For a section of a document without pages, ``text`` is its stored text and ``span`` the
    passage's character offsets in it; there is no image (width and height 0)."""

    path: str
    number: int
    page_count: int
    width: int
    height: int
    stride: int
    rgba: bytes
    highlights: tuple[Rect, ...] = field(default_factory=tuple)
    text: str = ""
    span: tuple[int, int] | None = None
    label: str = ""

    @property
    def is_text(self) -> bool:
        return not self.rgba and self.width == 0


def text_section(path: str | os.PathLike[str], number: int, page_text: str | None,
                 highlight: tuple[int, int] | None = None, label: str = "") -> RenderedPage:
    """The preview of section ``number`` of a document without pages: its stored text, the passage marked."""
    if page_text is None:
        raise FileAccessError(str(path), f"{display_name(path)}: the text of this passage is no longer in the "
                                         "library (re-index the file)")
    span = None
    if highlight is not None:
        start, end = max(0, highlight[0]), min(len(page_text), highlight[1])
        span = (start, end) if start < end else None
    return RenderedPage(str(path), number, 0, 0, 0, 0, b"", (), page_text, span,
                        place_label(path, number, label=label))


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
        raise FileAccessError(str(p), f"{display_path(p)}: file not found (was it moved or deleted?)")
    try:
        return pdfium.PdfDocument(str(p))
    except pdfium.PdfiumError as exc:
        log.info("cannot open %s for preview: %s", display_path(p), exc)
        raise CorruptPdfError(str(p), f"{display_name(p)}: cannot be opened for preview") from exc


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
    label: str = "",
    words: Sequence[WordBox] | None = None,
) -> RenderedPage:
    """Render page ``page_number`` (1-based) to RGBA, with the passage ``highlight`` located on it (from
    ``words``, the stored word boxes, on a page read by OCR); for a file in another format, the stored
    section text instead (see :func:`text_section`)."""
    if not is_pdf(path):
        return text_section(path, page_number, page_text, highlight, label)
    with PDFIUM_LOCK:
        return _render(path, page_number, dpi, highlight, page_text, words)


def word_rects(words: Sequence[WordBox], start: int, end: int) -> list[Rect]:
    """Rectangles in PDF points covering the OCR words that overlap offsets [start, end): the words of a
    line merged into one rectangle, as pdfium merges the characters of a line. The detector's boxes are
    padded (about 1.5 line heights on a 10-point line), so each loses :data:`OCR_BOX_TRIM` of its height
    at the top and at the bottom: the highlights of two lines then no longer overlap."""
    rects: list[Rect] = []
    last_end = -2
    for word_start, word_end, left, top, right, bottom in words:
        if word_end <= start or word_start >= end:
            continue
        trim = (bottom - top) * OCR_BOX_TRIM
        top, bottom = top + trim, bottom - trim
        if rects and word_start <= last_end + 1 and _same_line(rects[-1], top, bottom):
            x0, y0, x1, y1 = rects[-1]
            rects[-1] = (min(x0, left), min(y0, top), max(x1, right), max(y1, bottom))
        else:
            rects.append((left, top, right, bottom))
        last_end = word_end
    return rects


def _same_line(rect: Rect, top: float, bottom: float) -> bool:
    """Whether a word's vertical middle lies within a rectangle's height (the next word on its line)."""
    return rect[1] <= (top + bottom) / 2 <= rect[3]


def _render(path: str | os.PathLike[str], page_number: int, dpi: float, highlight: tuple[int, int] | None,
            page_text: str | None, words: Sequence[WordBox] | None = None) -> RenderedPage:
    import pypdfium2.raw as pdfium_c

    doc = _open(path)
    try:
        count = len(doc)
        if not 1 <= page_number <= count:
            raise CorruptPdfError(str(path), f"{display_name(path)} has {count} pages; page {page_number} is gone "
                                  "(the file changed since it was indexed - re-index it)")
        page = doc[page_number - 1]
        try:
            scale = dpi / POINTS_PER_INCH
            bitmap = page.render(scale=scale, force_bitmap_format=pdfium_c.FPDFBitmap_BGRA, rev_byteorder=True,
                                 may_draw_forms=True)  # BGRA with reversed byte order = RGBA8888
            rects: list[Rect] = []
            if highlight is not None and words is not None:  # a scanned page read by OCR
                rects = word_rects(words, highlight[0], highlight[1])
            elif highlight is not None:
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
