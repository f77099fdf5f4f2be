"""The extraction child's work for formats other than PDF: .txt, .md, .html, .docx, .pptx, .epub -> sections.

Runs inside the child process of :mod:`desktop_rag.core.ingest.extract`, under the same time and
memory limits as the PDF parsers (the parent has already refused files over the size limits of
:mod:`.formats`). Bytes become text as UTF-8 (with or without a BOM), UTF-16 or UTF-32 with a BOM,
UTF-16 without one, an HTML file's declared charset, or else Windows-1252 when the result reads
like Western text (no charset detector is bundled). A file holding binary data, or text in an
encoding none of these fit, is refused with its reason (kind :data:`REFUSED`); it is never guessed.
"""

from __future__ import annotations

import codecs
import logging
import re
from typing import Any

from desktop_rag.core.ingest.formats import (DOCX_SUFFIX, EPUB_SUFFIX, HTML_SUFFIXES, MARKDOWN_SUFFIXES, PPTX_SUFFIX,
                                             suffix_of)
from desktop_rag.core.ingest.sections import Block, Refused, paragraphs, sections

log = logging.getLogger(__name__)

OK, REFUSED, LIMIT = "ok", "refused", "limit"
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
NOT_TEXT = "not a text file: it holds binary data"
UNKNOWN_ENCODING = ("its text is in an encoding this program cannot recognise (not UTF-8, UTF-16 or "
                    "Windows-1252); save it as UTF-8 and add it again")


def parse_document(path: str) -> tuple[str, Any]:
    """``("ok", [[number, text, label], ...], title, 0])`` or ``(kind, detail)``; never raises for a bad file."""
    try:
        found, title = _sections_of(path)
    except Refused as exc:
        return REFUSED, str(exc)
    except MemoryError:
        return LIMIT, "memory"
    pages = [[number, text, label] for number, (text, label) in enumerate(found, 1)]
    return OK, [pages, title, 0]


def _sections_of(path: str) -> tuple[list[tuple[str, str]], str]:
    suffix = suffix_of(path)
    if suffix == DOCX_SUFFIX:
        from desktop_rag.core.ingest.docxparse import docx_blocks

        blocks, title = docx_blocks(path)
        return sections(blocks), title
    if suffix == PPTX_SUFFIX:  # one page per slide, empty ones too: page numbers are slide numbers
        from desktop_rag.core.ingest.pptxparse import pptx_slides

        return pptx_slides(path)
    if suffix == EPUB_SUFFIX:
        from desktop_rag.core.ingest.epubparse import epub_sections

        return epub_sections(path, decode_text)
    with open(path, "rb") as fh:
        data = fh.read()
    if suffix in HTML_SUFFIXES:
        from desktop_rag.core.ingest.htmlparse import declared_charset, html_blocks

        blocks, title = html_blocks(decode_text(data, declared_charset(data)))
        return sections(blocks), title
    text = decode_text(data)
    if suffix in MARKDOWN_SUFFIXES:
        blocks = markdown_blocks(text)
        return sections(blocks), next((b.text for b in blocks if b.level == 1), "")
    return sections(paragraphs(text)), ""


def decode_text(data: bytes, declared: str | None = None) -> str:
    """The text of a file's bytes (see the module docstring), or :class:`Refused`."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _decode(data, codec)
            if text is None:
                raise Refused(UNKNOWN_ENCODING)
            return _checked(text)
    if b"\x00" in data:
        return _checked(_utf16_without_bom(data))
    for codec in ("utf-8", declared):
        text = _decode(data, codec) if codec else None
        if text is not None:
            return _checked(text)
    text = _decode(data, "cp1252")
    if text is None or not _reads_as_western(text):
        raise Refused(UNKNOWN_ENCODING)
    log.info("not UTF-8: read as Windows-1252")
    return _checked(text)


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_without_bom(data: bytes) -> str:
    """UTF-16 text saved without a BOM has a zero byte in every other place (ASCII letters); else binary."""
    half = max(1, len(data) // 2)
    for codec, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if zeros.count(0) > 0.6 * half:
            text = _decode(data, codec)
            if text is not None:
                return text
    raise Refused(NOT_TEXT)


def _checked(text: str) -> str:
    """``text`` unless it is mostly control characters (binary data that happened to decode)."""
    sample = text[:65536]
    if len(_BINARY_CONTROLS.findall(sample)) > max(8, len(sample) // 100):
        raise Refused(NOT_TEXT)
    return text


def _reads_as_western(text: str) -> bool:
    """Windows-1252 decodes almost any bytes; real Western text has few letters outside ASCII."""
    letters = [c for c in text[:200000] if c.isalpha()]
    beyond = sum(1 for c in letters if ord(c) > 127)
    return bool(letters) and beyond <= 0.15 * len(letters)


def markdown_blocks(text: str) -> list[Block]:
    """Headings (ATX ``#`` and setext underlines, not inside fenced code) and paragraphs of Markdown."""
    blocks: list[Block] = []
    lines = text.split("\n")
    body: list[str] = []
    start, fence = 1, ""
    for number, line in enumerate(lines, 1):
        heading = None if fence else _heading_of(line, lines[number] if number < len(lines) else "", body)
        fence = _fence_after(line, fence)
        if heading is None:
            body.append(line)
            continue
        blocks.extend(paragraphs("\n".join(body), start))
        blocks.append(Block(heading[0], heading[1], number, number))
        body, start = [], number + 1
    blocks.extend(paragraphs("\n".join(body), start))
    return [b for b in blocks if not (b.level == 0 and _SETEXT.match(b.text))]  # underlines, rules


def _heading_of(line: str, following: str, body: list[str]) -> tuple[int, str] | None:
    atx = _ATX.match(line)
    if atx and (atx.group(2) or "").strip():
        return len(atx.group(1)), atx.group(2).strip()
    underline = _SETEXT.match(following)
    if underline and line.strip() and not _FENCE.match(line) and (not body or not body[-1].strip()):
        return (1 if underline.group(1).startswith("=") else 2), line.strip()
    return None


def _fence_after(line: str, fence: str) -> str:
    """The open code fence after ``line`` ("" when none is open)."""
    found = _FENCE.match(line)
    if not found:
        return fence
    if not fence:
        return found.group(1)
    return "" if found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence) else fence
