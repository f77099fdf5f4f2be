"""E-books (.epub) -> sections, chapter by chapter, with the standard library: ``zipfile``, the
package's XML read with ``xml.etree``, each chapter's XHTML with :mod:`.htmlparse`.

Runs in the extraction child (see :mod:`.textparse`), after :func:`.packages.check_package`. The
chapters are the spine's documents in reading order (the navigation document left out). Each is cut
into sections as an HTML file is (:func:`.sections.sections`), and every label starts with the
chapter's heading ("Chapter 3: The Storm > Landfall"). A book whose chapters are encrypted (DRM) is
refused with that reason; one whose only encrypted parts are fonts is read.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile
from typing import Callable
from urllib.parse import unquote

from desktop_rag.core.ingest.formats import HEADING_JOINER
from desktop_rag.core.ingest.sections import Refused, sections

KIND = "e-book (.epub)"
CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html"})
DAMAGED = "the e-book is damaged: its table of contents (the OPF package file) cannot be read"
DRM = "the e-book is protected by DRM (its chapters are encrypted) and cannot be read"

Decode = Callable[[bytes, "str | None"], str]


def epub_sections(path: str, decode: Decode) -> tuple[list[tuple[str, str]], str]:
    """(text, label) for each section of each chapter, in reading order, and the book's title.
    ``decode(bytes, declared charset)`` turns a chapter's bytes into text (:func:`.textparse.decode_text`)."""
    from desktop_rag.core.ingest.packages import check_package

    names = set(check_package(path, KIND, CONTAINER))
    with zipfile.ZipFile(path) as book:
        if ENCRYPTION in names and _chapters_encrypted(book.read(ENCRYPTION)):
            raise Refused(DRM)
        opf_path = _package_path(book.read(CONTAINER))
        if opf_path not in names:
            raise Refused(DAMAGED)
        chapters, title = _spine(book.read(opf_path), posixpath.dirname(opf_path))
        found: list[tuple[str, str]] = []
        for number, href in enumerate((h for h in chapters if h in names), 1):
            found.extend(_chapter(book.read(href), number, decode))
    return found, title


def _xml(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise Refused(DAMAGED) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _chapters_encrypted(data: bytes) -> bool:
    uris = [e.get("URI", "") for e in _xml(data).iter() if _local(e.tag) == "CipherReference"]
    return any(u.lower().endswith((".xhtml", ".html", ".htm", ".xml")) for u in uris)


def _package_path(container: bytes) -> str:
    rootfile = next((e for e in _xml(container).iter() if _local(e.tag) == "rootfile"), None)
    if rootfile is None or not rootfile.get("full-path"):
        raise Refused(DAMAGED)
    return rootfile.get("full-path", "")


def _spine(opf: bytes, base: str) -> tuple[list[str], str]:
    """The chapters' paths inside the zip, in reading order, and the book's title."""
    root = _xml(opf)
    items = {e.get("id"): e for e in root.iter() if _local(e.tag) == "item"}
    title = next((" ".join((e.text or "").split()) for e in root.iter() if _local(e.tag) == "title"), "")
    chapters = []
    for ref in (e for e in root.iter() if _local(e.tag) == "itemref"):
        item = items.get(ref.get("idref"))
        if item is None or item.get("media-type") not in CHAPTER_TYPES:
            continue
        if "nav" in (item.get("properties") or "").split():  # the table of contents: not a chapter
            continue
        chapters.append(posixpath.normpath(posixpath.join(base, unquote(item.get("href", "")))))
    return chapters, title


def _chapter(data: bytes, number: int, decode: Decode) -> list[tuple[str, str]]:
    from desktop_rag.core.ingest.htmlparse import declared_charset, html_blocks

    blocks, heading = html_blocks(decode(data, declared_charset(data)))
    chapter = next((b.text for b in blocks if b.level), "") or heading or f"chapter {number}"
    chapter = " ".join(chapter.split())
    return [(text, _labelled(label, chapter)) for text, label in sections(blocks)]


def _labelled(label: str, chapter: str) -> str:
    if not label:
        return chapter
    return label if label.startswith(chapter) else f"{chapter}{HEADING_JOINER}{label}"
