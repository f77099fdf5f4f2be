"""Running headers and footers: lines a document repeats on most of its pages ("Apple Inc. | Q3
2022 Form 10-Q | 13"). They say nothing about the passage they sit in, small models copy them
into answers, and they match every question about the document, so passages lose them before
the model reads them and quotes never pick them.
"""

from __future__ import annotations

import re
from typing import Sequence

MIN_PAGES = 3
PAGE_SHARE = 0.3  # a line (its digits aside) on at least this share of the pages is running
MAX_LINE_CHARS = 120
_DIGITS = re.compile(r"\d+")
EDGE_LINES = 2  # the lines at each edge of a page where a footer or header sits
_PAGE_MARK = re.compile(r"^(?:[^\d\n]{2,80}\s\d{1,3}|\d{1,3}\s[^\d\n]{2,80})$")  # "MD&A 30", "16 Notes"


def line_key(line: str) -> str:
    """A line with its numbers blanked and spaces collapsed: page 12's footer matches page 13's."""
    return _DIGITS.sub("#", " ".join(line.split())).lower()


def running_lines(pages: Sequence[str]) -> frozenset[str]:
    """Keys (:func:`line_key`) of the short lines found on at least 30% of the pages."""
    if len(pages) < MIN_PAGES:
        return frozenset()
    counts: dict[str, int] = {}
    for text in pages:
        for key in {line_key(line) for line in text.splitlines() if 0 < len(line.strip()) <= MAX_LINE_CHARS}:
            counts[key] = counts.get(key, 0) + 1
    least = max(MIN_PAGES, PAGE_SHARE * len(pages))
    repeated = frozenset(k for k, n in counts.items() if n >= least and any(c.isalpha() for c in k))
    return repeated | _section_footers(pages)


def _section_footers(pages: Sequence[str]) -> frozenset[str]:
    """Keys of a title and a page number at the top or bottom of a page, there on three pages or
    more: a section's own footer ("Financial Statements Notes to Financial Statements 16") runs
    over the pages of its section only, too few for the 30% rule, and was quoted as an answer."""
    counts: dict[str, int] = {}
    for text in pages:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for key in {line_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:] if _PAGE_MARK.match(line)}:
            counts[key] = counts.get(key, 0) + 1
    return frozenset(k for k, n in counts.items() if n >= MIN_PAGES)


def without_running_lines(text: str, running: frozenset[str]) -> str:
    """``text`` without its running header and footer lines."""
    if not running:
        return text
    return "\n".join(line for line in text.split("\n") if line_key(line) not in running)
