"""Pages that match many words of a question but answer none: recognised so search ranks them down.

Tables of contents and indexes (most lines end in a page number), signature and certification
pages, exhibit lists, lists of subsidiaries and legal boilerplate repeat a document's name,
period and section titles, so they match questions about almost anything in it. A page is
boilerplate when most of its lines look like contents lines, when its title says it is one (a
list of subsidiaries, an exhibit index), or when it shows two or more of the marks below.
Questions that ask for such pages ("who signed", "which exhibits") are left alone.
"""

from __future__ import annotations

import re

from desktop_rag.core.text import title_cased

MIN_CONTENTS_LINES = 8
CONTENTS_SHARE = 0.5  # more than half the lines end in a page number: a contents page or an index
MIN_MARKS = 2

_CONTENTS_LINE = re.compile(r"^.{3,120}?(?:\s|\.{2,}|…)(?:\d{1,4}|[ivxlc]{1,6})\s*$", re.IGNORECASE)
# ... unless it is a table row ending in two figures ("Prepaid royalties 381 387"): a contents line's
# number follows its title, or a year ("Income Statements for ... 2023 and 2022 3")
_TWO_FIGURES = re.compile(r"(?<![\w.,])(?!(?:19|20)\d\d\b)\d[\d,.]*\s+[$(]?\s*\d{1,4}\s*$")
_MARKS = tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in (
    r"/s/",
    r"pursuant to the requirements of",
    r"section 1350",
    r"sarbanes-oxley act",
    r"hereunto duly authorized",
    r"\bexhibit\s+(?:no\.?|number|index|description)",
    r"incorporated (?:herein )?by reference",
    r"certification of",
    r"^\s*(?:table of contents|contents|index)\s*$",
    r"list of subsidiaries|subsidiaries of (?:the )?registrant",
    r"inline xbrl",
    r"(?:\bexhibit\s+|^\s*)(?:31|32)\.\d{1,2}\b(?!\s*%)",  # "Exhibit 31.1", an exhibit list's "32.1*"; not "31.1 %"
    r"^\s*signatures?\s*$",
))
TITLE_LINES = 6
MAX_TITLE_CHARS = 90
# a page titled so is boilerplate on its own: "EXHIBIT 21 / SUBSIDIARIES OF PEPSICO, INC." names
# the company and many places, so it matched "What geographies does PepsiCo operate in?"
_TITLE = re.compile(
    r"^\s*(?:exhibit\s+21(?:\.\d+)?\b|(?:list\s+of\s+|significant\s+)?subsidiaries\b(?:\s+of\b.*)?$|"
    r"exhibit\s+index\s*$|index\s+to\s+exhibits\s*$|power\s+of\s+attorney\s*$|"
    r"consent\s+of\s+independent\s+registered\s+public\s+accounting\s+firm\s*$)", re.IGNORECASE)
ASKS_FOR_BOILERPLATE = frozenset(
    "signed signature signatures signatory exhibit exhibits certification certifications certified "
    "subsidiaries subsidiary contents index xbrl "
    "ceo cfo coo officer officers chairman"  # signature and certification pages name the officers
    .split()
)


def is_boilerplate(page_text: str) -> bool:
    """Whether the page is a contents page, an index, a signature page or an exhibit list."""
    lines = [line for line in page_text.splitlines() if line.strip()]
    contents = sum(1 for line in lines if _CONTENTS_LINE.match(line) and not _TWO_FIGURES.search(line))
    if len(lines) >= MIN_CONTENTS_LINES and contents > CONTENTS_SHARE * len(lines):
        return True
    if any(_is_title(line) and _TITLE.match(line) for line in lines[:TITLE_LINES]):
        return True
    marks = 0
    for mark in _MARKS:
        if mark.search(page_text):
            marks += 1
            if marks >= MIN_MARKS:
                return True
    return False


def _is_title(line: str) -> bool:
    """A short line whose longer words are capitalised ("SUBSIDIARIES OF PEPSICO, INC.")."""
    return len(line) <= MAX_TITLE_CHARS and title_cased(line)


def asks_for_boilerplate(terms: set[str] | frozenset[str]) -> bool:
    return not ASKS_FOR_BOILERPLATE.isdisjoint(terms)
