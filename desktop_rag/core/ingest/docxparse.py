"""Word (.docx) -> headings and paragraphs, with python-docx.

Runs in the extraction child (see :mod:`.textparse`). The zip is checked before python-docx opens
it (:func:`.packages.check_package`): a file that is not a zip, a zip without a Word document inside
(an .xlsx or .odt renamed), or a zip bomb is refused with its reason. Paragraphs styled "Heading 1"-"Heading 9" (or with an outline level) are
headings; each table row is one paragraph, its cells joined with " | ".
"""

from __future__ import annotations

import re
from typing import Any

from desktop_rag.core.ingest.packages import check_package, read_package
from desktop_rag.core.ingest.sections import Block


_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
KIND = "Word document (.docx)"
DAMAGED = "the Word document is damaged and cannot be read"


def docx_blocks(path: str) -> tuple[list[Block], str]:
    """The headings and paragraphs of a .docx in document order, and its title; or :class:`Refused`."""
    check_package(path, KIND, "word/document.xml")
    import docx

    def read() -> tuple[list[Block], str]:
        document = docx.Document(path)
        blocks = [block for item in document.iter_inner_content() for block in _blocks_of(item)]
        return blocks, (document.core_properties.title or "").strip()

    blocks, title = read_package(read, path, "python-docx", DAMAGED)
    return blocks, title or next((b.text for b in blocks if b.level == 1), "")


def _blocks_of(item: Any) -> list[Block]:
    """A paragraph as a heading or paragraph block; a table as one block per row."""
    if hasattr(item, "rows"):
        rows = []
        for row in item.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            unique = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]  # merged cells repeat
            if unique:
                rows.append(Block(0, " | ".join(unique)))
        return rows
    text = item.text.strip()
    return [Block(_heading_level(item), text)] if text else []


def _heading_level(paragraph: Any) -> int:
    """1-9 for a heading (by style name, or the outline level a custom heading style sets), else 0."""
    style = paragraph.style
    while style is not None:
        found = _HEADING_STYLE.match(style.name or "")
        if found:
            return int(found.group(1))
        outline = style.element.find(".//{*}outlineLvl")
        if outline is not None:
            value = outline.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "9")
            return int(value) + 1 if value.isdigit() and int(value) < 9 else 0
        style = style.base_style
    return 0
