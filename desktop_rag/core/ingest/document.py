"""The parent's reading of the extraction child's answer: the document's pages, and why none has text.

The child (see :mod:`.extract`) answers ``[pages, title, scanned]``, and ``[pages, title, scanned, ocr]``
when it read the scanned pages by OCR (see :mod:`.ocr`): their texts, their words' boxes, and the
reasons of the pages it could not read. A page read by OCR becomes a :class:`Page` with ``ocr_words``
(its words' boxes, for the preview's highlight); an OCR page that yields no word keeps empty boxes,
so the library still says it was read by OCR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from desktop_rag.core.filenames import display_name
from desktop_rag.core.ingest.formats import is_pdf
from desktop_rag.core.types import IngestProgress, Page, WordBox
from desktop_rag.errors import CorruptPdfError, NoTextError

# Control characters, and unpaired UTF-16 halves a broken text layer leaves (SQLite cannot store them).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ProgressEvent = Callable[..., IngestProgress]  # called with pages_done, pages_total and message


def normalize_page_text(text: str) -> str:
    """Unify line breaks and drop control characters (and broken UTF-16) parsers leave in page text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    pages: list[Page]
    title: str

    @property
    def ocr_pages(self) -> int:
        """How many of its pages were read by OCR."""
        return sum(1 for p in self.pages if p.ocr_words is not None)


def ocr_event(event: ProgressEvent, position: int, total: int, number: int, page_count: int) -> IngestProgress:
    """The progress event for reading page ``number`` by OCR, the ``position``-th of ``total`` such pages."""
    return event(pages_done=position - 1, pages_total=total,
                 message=f"reading page {number} of {page_count} (OCR)")


def document_from(path: Path, payload: list[Any], ocr_on: bool) -> ExtractedDocument:
    """The pages and title of the child's answer; NoTextError (or CorruptPdfError) when no page has text."""
    raw_pages, title, scanned = payload[:3]
    ocr = payload[3] if len(payload) > 3 else {}
    texts, words = ocr.get("texts", {}), ocr.get("words", {})
    pages = []
    for number, text, *label in raw_pages:
        key = str(number)
        if key in texts:
            boxes = tuple(tuple(box) for box in words.get(key, ()))
            pages.append(Page(number, normalize_page_text(texts[key]), ocr_words=boxes))  # type: ignore[arg-type]
        else:
            pages.append(Page(number, normalize_page_text(text), *label))
    if not is_pdf(path) and not any(p.text.strip() for p in pages):
        raise NoTextError(str(path), f"{display_name(path)}: no text in it")
    if not pages:
        raise CorruptPdfError(str(path), f"{display_name(path)}: the PDF has no pages")
    if not any(p.text.strip() for p in pages):
        raise no_text(path, len(pages), scanned, ocr, ocr_on)
    return ExtractedDocument(pages, normalize_page_text(title).strip())


def no_text(path: Path, page_count: int, scanned: list[int], ocr: dict[str, Any], ocr_on: bool) -> NoTextError:
    """No text on any page: a scan OCR was off for, a scan OCR found nothing on (or could not read), or
    just no text (blank or drawn pages)."""
    name = display_name(path)
    where = "on its one page" if page_count == 1 else f"on any of its {page_count} pages"
    if not scanned:
        return NoTextError(str(path), f"{name}: no text {where}")
    if not ocr_on:
        return NoTextError(str(path), f"{name}: no text {where}, only images: it is probably scanned; turn OCR "
                                      "on in Settings (or make it searchable with an OCR program) and add it again")
    skipped = ocr.get("skipped", {})
    if skipped:
        number, why = next(iter(skipped.items()))
        more = f" (and {len(skipped) - 1} more pages)" if len(skipped) > 1 else ""
        return NoTextError(str(path), f"{name}: no text {where}, only images, and page {number} could not be read "
                                      f"by OCR: {why}{more}")
    return NoTextError(str(path), f"{name}: no text {where}, only images, and OCR found no readable text in them")
