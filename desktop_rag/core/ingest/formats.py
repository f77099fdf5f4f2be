"""The file formats the library reads, their size limits, and how a place in each is named.

A PDF's unit is its page. Other formats have no pages, so their text is cut into *sections*, each
stored as one page row: a .docx, .md or .html section runs from one heading to the next (a long
one is cut into parts at paragraph breaks), and a .txt file, which has no headings, is cut into
parts of whole paragraphs. Each section keeps a label the user can find in the file: its heading
path ("Install > On Linux") or, for plain text, its line range ("lines 41-80"). A .pptx slide is one
page, labelled with its title ("slide 3: Results"); an .epub is cut chapter by chapter, each label
starting with the chapter's heading.
"""

from __future__ import annotations

import os
from pathlib import Path

PDF_SUFFIX = ".pdf"
DOCX_SUFFIX = ".docx"
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIX = ".txt"
PPTX_SUFFIX = ".pptx"
EPUB_SUFFIX = ".epub"
PACKAGE_SUFFIXES = (DOCX_SUFFIX, PPTX_SUFFIX, EPUB_SUFFIX)  # zip packages: the Word size limits apply
SUPPORTED_SUFFIXES = (PDF_SUFFIX, DOCX_SUFFIX, *MARKDOWN_SUFFIXES, *HTML_SUFFIXES, TEXT_SUFFIX, PPTX_SUFFIX,
                      EPUB_SUFFIX)
FORMAT_NAMES = ("PDF, Word (.docx), PowerPoint (.pptx), e-books (.epub), Markdown (.md), HTML (.html, .htm) "
                "and plain text (.txt)")

# A .txt, .md or .html file larger than this is refused before it is read: 32 MB of text is about
# 10,000 printed pages; a larger "text" file is almost always a log or a data dump.
MAX_TEXT_BYTES = 32 * 1024 * 1024
# A .docx is a zip: its file and the parts unpacked from it are capped (a zip bomb is refused).
MAX_DOCX_BYTES = 100 * 1024 * 1024
MAX_DOCX_UNPACKED_BYTES = 256 * 1024 * 1024

SECTION_CHARS = 4000  # a section longer than this is cut into parts (a PDF page holds about 3,000)
HEADING_JOINER = " > "


def suffix_of(path: str | os.PathLike[str]) -> str:
    return Path(path).suffix.lower()


def is_supported(path: str | os.PathLike[str]) -> bool:
    return suffix_of(path) in SUPPORTED_SUFFIXES


def is_pdf(path: str | os.PathLike[str]) -> bool:
    """Whether the file is read as a PDF: named so, or given by name with a suffix no other format has
    (such a file is looked at for a PDF header, as before other formats were read)."""
    return suffix_of(path) not in SUPPORTED_SUFFIXES[1:]


def size_limit(path: str | os.PathLike[str]) -> int:
    """The largest file of this format that is read: a zip package (.docx, .pptx, .epub) or text."""
    return MAX_DOCX_BYTES if suffix_of(path) in PACKAGE_SUFFIXES else MAX_TEXT_BYTES


def unit_name(path: str | os.PathLike[str]) -> str:
    """What one stored page of this file is called: "page", "slide", "section", or "part" (plain text)."""
    suffix = suffix_of(path)
    if suffix == TEXT_SUFFIX:
        return "part"
    if suffix == PPTX_SUFFIX:
        return "slide"
    return "page" if is_pdf(path) else "section"


def place_label(path: str | os.PathLike[str], page: int, page_end: int = 0, label: str = "") -> str:
    """Where a passage is, as the user finds it: "page 3", "pages 3-4", "section 2: Install > On Linux",
    "part 4: lines 120-161"."""
    unit = unit_name(path)
    where = f"{unit} {page}" if page_end in (0, page) else f"{unit}s {page}\u2013{page_end}"
    return f"{where}: {label}" if label and page_end in (0, page) else where


def paragraph_number(text: str, offset: int) -> int:
    """The 1-based paragraph (blank-line separated block) of ``text`` that holds ``offset``."""
    return text.count("\n\n", 0, max(0, offset)) + 1
