"""HTML -> headings and paragraphs, with the standard library's forgiving ``html.parser``.

Runs in the extraction child (see :mod:`.textparse`). Scripts, styles, templates and the head are
skipped, and the ``<title>`` is kept as the title only; ``<h1>``-``<h6>`` become headings; block elements
(paragraphs, list items, table rows, ``<br>``, ...) end a paragraph; table cells are joined with
" | "; whitespace is collapsed except inside ``<pre>``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from desktop_rag.core.ingest.sections import Block

_SKIPPED = {"script", "style", "noscript", "template", "svg", "math", "object", "iframe"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "div", "li", "tr", "br", "hr", "section", "article", "aside", "header", "footer", "nav", "main",
           "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "figure", "figcaption",
           "caption", "form", "fieldset", "address", "details", "summary", "body", "html"}
_CELLS = {"td", "th"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_charset(data: bytes) -> str | None:
    """The encoding a ``<meta charset>`` near the top of the file declares, if any."""
    found = _CHARSET.search(data[:4096])
    return found.group(1).decode("ascii") if found else None


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._text: list[str] = []
        self._level = 0
        self._skip: list[str] = []
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIPPED and tag not in _VOID:
            self._skip.append(tag)
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._flush()
            self._level = _HEADINGS.get(tag, 0)
            self._pre += tag == "pre"
        elif tag in _CELLS and self._text and self._text[-1].strip():
            self._text.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._flush()
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._text.append(data)

    def _flush(self) -> None:
        raw = "".join(self._text)
        text = raw.strip("\n") if self._pre else " ".join(raw.split())
        if text.strip():
            self.blocks.append(Block(self._level, text))
        self._text, self._level = [], 0

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(text: str) -> tuple[list[Block], str]:
    """The headings and paragraphs of an HTML document, and its title."""
    collector = _Collector()
    collector.feed(text)
    collector.close()
    title = " ".join(collector.title.split())
    if not title:
        title = next((b.text for b in collector.blocks if b.level == 1), "")
    return collector.blocks, title
