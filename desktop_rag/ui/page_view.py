"""A rendered PDF page with the cited passage highlighted, and opening a file in the system viewer.

A document without pages (.docx, .md, .html, .txt) is previewed as the text of the cited section,
the passage highlighted in it (:class:`SectionText`)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Callable, Sequence

from PySide6.QtCore import QRectF, Qt, QUrl
from PySide6.QtGui import (QColor, QDesktopServices, QImage, QPainter, QPaintEvent, QPen, QResizeEvent,
                           QTextCharFormat, QTextCursor)
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QStackedWidget, QTextBrowser, QVBoxLayout, QWidget

from desktop_rag.core.filenames import display_name, display_path, is_displayable
from desktop_rag.core.ingest.formats import is_pdf, paragraph_number, place_label
from desktop_rag.core.ingest.render import Rect, RenderedPage

log = logging.getLogger(__name__)

HIGHLIGHT_FILL = QColor(255, 210, 0, 90)
TEXT_HIGHLIGHT = QColor(255, 224, 110)  # opaque: a text format paints no blend
HIGHLIGHT_EDGE = QColor(230, 150, 0, 220)
MARGIN = 8

# Viewers that take a page number on the command line: (program, arguments); {page} is 1-based.
PAGE_VIEWERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("evince", ("--page-index={page}", "{path}")),
    ("okular", ("-p", "{page}", "{path}")),
    ("zathura", ("-P", "{page}", "{path}")),
    ("qpdfview", ("--unique", "{path}#{page}")),
    ("xreader", ("--page-index={page}", "{path}")),
    ("atril", ("--page-index={page}", "{path}")),
    ("mupdf", ("{path}", "{page}")),
)


def viewer_command(path: str, page: int, which: Callable[[str], str | None] = shutil.which) -> list[str] | None:
    """A command that opens ``path`` at ``page`` with an installed viewer, or None (Linux/BSD only)."""
    if sys.platform.startswith(("win", "darwin")):
        return None
    for program, args in PAGE_VIEWERS:
        exe = which(program)
        if exe:
            return [exe, *(a.format(page=page, path=path) for a in args)]
    return None


def file_url(path: str) -> QUrl:
    """A file: URL for ``path``; a name that is not UTF-8 keeps its bytes (percent-encoded), which
    QUrl.fromLocalFile would lose."""
    if is_displayable(path):
        return QUrl.fromLocalFile(path)
    return QUrl.fromEncoded(b"file://" + urllib.parse.quote(os.fsencode(os.path.abspath(path))).encode("ascii"))


def open_in_system_viewer(path: str, page: int) -> str:
    """Open ``path`` at ``page`` where the platform allows; returns what happened, for the status bar."""
    if not Path(path).is_file():
        return f"{display_path(path)} is no longer there (moved or deleted?)"
    if not is_pdf(path):  # no viewer takes a section: open the file, say where to look
        if QDesktopServices.openUrl(file_url(path)):
            return f"Opened {display_name(path)} in its default program: look for {place_label(path, page)}"
        return f"No program could be started for {display_path(path)}"
    command = viewer_command(path, page)
    if command is not None:
        try:
            subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            return f"Opened {display_name(path)} at page {page} in {Path(command[0]).name}"
        except OSError as exc:
            log.warning("could not start %s: %s", command[0], exc)
    if QDesktopServices.openUrl(file_url(path)):
        return f"Opened {display_name(path)} in the default viewer; it cannot be told the page: go to page {page}"
    return f"No PDF viewer could be started for {display_path(path)}"


class PageCanvas(QWidget):
    """Paints the page scaled to its own width, with translucent boxes over the passage."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.highlights: tuple[Rect, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_page(self, image: QImage, highlights: Sequence[Rect]) -> None:
        self.image, self.highlights = image, tuple(highlights)
        self.update()

    def scale(self) -> float:
        if self.image.isNull():
            return 1.0
        return max(0.05, (self.width() - 2 * MARGIN) / self.image.width())

    def height_for(self, width: int) -> int:
        if self.image.isNull():
            return 0
        return int((width - 2 * MARGIN) * self.image.height() / self.image.width()) + 2 * MARGIN

    def highlight_top(self) -> int:
        if not self.highlights:
            return 0
        return int(min(r[1] for r in self.highlights) * self.scale()) + MARGIN

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        if self.image.isNull():
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        s = self.scale()
        target = QRectF(MARGIN, MARGIN, self.image.width() * s, self.image.height() * s)
        painter.fillRect(target.adjusted(2, 2, 2, 2), QColor(0, 0, 0, 60))  # a soft shadow
        painter.drawImage(target, self.image)
        painter.setPen(QPen(HIGHLIGHT_EDGE, 1.2))
        painter.setBrush(HIGHLIGHT_FILL)
        for left, top, right, bottom in self.highlights:
            painter.drawRect(QRectF(MARGIN + left * s - 1, MARGIN + top * s - 1,
                                    (right - left) * s + 2, (bottom - top) * s + 2))
        painter.end()


class SectionText(QWidget):
    """A section of a document without pages: where it is, over its text with the passage highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.where = QLabel()
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setAccessibleName("Section preview")
        self.highlighted = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.addWidget(self.where)
        layout.addWidget(self.browser, 1)

    def show_section(self, page: RenderedPage) -> None:
        self.browser.setPlainText(page.text)
        where = f"{display_name(page.path)} \u00b7 {page.label}"
        self.highlighted = ""
        if page.span is not None:
            start, end = page.span
            where += f", paragraph {paragraph_number(page.text, start)}"
            cursor = QTextCursor(self.browser.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            mark = QTextCharFormat()
            mark.setBackground(TEXT_HIGHLIGHT)
            mark.setForeground(QColor("black"))  # readable on the yellow in a dark theme too
            cursor.mergeCharFormat(mark)
            self.highlighted = cursor.selectedText().replace("\u2029", "\n")
            shown = QTextCursor(self.browser.document())
            shown.setPosition(end)
            self.browser.setTextCursor(shown)  # scrolls the passage's end into view ...
            shown.setPosition(start)
            self.browser.setTextCursor(shown)  # ... then its start
        self.where.setText(where)


class PageView(QStackedWidget):
    """A message ("Click a source...", "Rendering...", an error) or the scrollable page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.canvas = PageCanvas()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(False)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setAccessibleName("Page preview")
        self.section = SectionText()
        self.addWidget(self.message)
        self.addWidget(self.scroll)
        self.addWidget(self.section)
        self.page: RenderedPage | None = None
        self.show_message("Click a source to see its page here, with the passage highlighted.")

    @property
    def highlight_count(self) -> int:
        if self.currentWidget() is self.section:
            return int(bool(self.section.highlighted))
        return len(self.canvas.highlights) if self.currentWidget() is self.scroll else 0

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_page(self, page: RenderedPage) -> None:
        if page.is_text:
            self.page = page
            self.section.show_section(page)
            self.setCurrentWidget(self.section)
            return
        image = QImage(page.rgba, page.width, page.height, page.stride, QImage.Format.Format_RGBA8888).copy()
        self.page = page
        self.canvas.set_page(image, page.highlights)
        self.setCurrentWidget(self.scroll)
        self._fit_width()
        top = self.canvas.highlight_top()
        self.scroll.verticalScrollBar().setValue(max(0, top - self.scroll.viewport().height() // 3))

    def _fit_width(self) -> None:
        width = self.scroll.viewport().width()
        self.canvas.resize(width, self.canvas.height_for(width))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._fit_width()
