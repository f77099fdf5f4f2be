"""Sources: the passages the current answer cites, and a preview of the page of the chosen one."""

from __future__ import annotations

import html
from typing import Any, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.ingest.formats import is_pdf, place_label
from desktop_rag.core.ingest.render import RenderedPage
from desktop_rag.core.types import Citation
from desktop_rag.ui.page_view import PageView

CITATION_ROLE = Qt.ItemDataRole.UserRole + 1
PASSAGE_CHARS = 420
PADDING = 6
NO_SOURCES = "The passages an answer cites appear here. Ask a question to see them."


def citation_place(c: Citation) -> str:
    """"page 3", or for a document without pages "section 2: Install > On Linux" (the label when the
    citation carries one)."""
    return place_label(c.path, c.page, c.page_end, getattr(c, "label", ""))


def citation_html(c: Citation, color: str, muted: str) -> str:
    text = " ".join(c.text.split())
    if len(text) > PASSAGE_CHARS:
        text = text[: PASSAGE_CHARS - 1].rstrip() + "…"
    pages = html.escape(citation_place(c))
    return (f'<div style="color:{color}"><b>[{c.number}] {html.escape(c.file)}</b> '
            f'<span style="color:{muted}">· {pages}</span><br>{html.escape(text)}</div>')


class SourceDelegate(QStyledItemDelegate):
    """Draws each source as a bold header (number, file, page) over the wrapped passage text."""

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                  width: int) -> QTextDocument:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        color = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text).name()
        muted = color if selected else palette.color(QPalette.ColorRole.PlaceholderText).name()
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(PADDING)
        doc.setHtml(citation_html(index.data(CITATION_ROLE), color, muted))
        doc.setTextWidth(max(width, 80))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        option.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        doc = self._document(option, index, option.rect.width())
        painter.save()
        painter.translate(option.rect.topLeft())
        context = QAbstractTextDocumentLayout.PaintContext()
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:  # noqa: N802 - Qt naming
        view = self.parent()
        width = view.viewport().width() if view is not None else option.rect.width()
        doc = self._document(option, index, width)
        return QSize(width, int(doc.size().height()) + 2)


class SourcesPanel(QWidget):
    source_activated = Signal(object)  # Citation
    open_requested = Signal(object, int)  # path (a str, which Signal(str) would not keep if it is not UTF-8), page

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.citations: list[Citation] = []
        self._open_target: tuple[str, int] | None = None
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self._build_sources())
        self.splitter.addWidget(self._build_page())
        self.splitter.setSizes([260, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.show_citations([])

    def _build_sources(self) -> QWidget:
        """The list of cited passages (or, before any answer, a line saying what will be there)."""
        self.list = QListWidget()
        self.list.setAccessibleName("Cited passages")
        self.list.setItemDelegate(SourceDelegate(self.list))
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemClicked.connect(self._on_list_item_activated)
        self.empty = QLabel(NO_SOURCES)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        top = QWidget()
        layout = QVBoxLayout(top)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Sources</b>"))
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        return top

    def _build_page(self) -> QWidget:
        """The chosen source's page, under its title and the button that opens it elsewhere."""
        self.page_title = QLabel()
        self.page_title.setTextFormat(Qt.TextFormat.PlainText)
        self.open_button = QPushButton("Open in system viewer")
        self.open_button.setToolTip("Open this PDF at this page in your PDF viewer (Ctrl+Shift+P)")
        self.open_button.hide()
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.page_view = PageView()
        header = QHBoxLayout()
        header.addWidget(self.page_title, 1)
        header.addWidget(self.open_button)
        bottom = QWidget()
        layout = QVBoxLayout(bottom)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.page_view, 1)
        return bottom

    def show_citations(self, citations: Sequence[Citation], select: int | None = None) -> None:
        """List ``citations``; with ``select`` (a citation number), preview that one."""
        if list(citations) != self.citations:
            self.citations = list(citations)
            self.list.clear()
            for c in self.citations:
                item = QListWidgetItem()
                item.setData(CITATION_ROLE, c)
                item.setToolTip(c.text[:2000])
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Source {c.number}: {c.file}, {citation_place(c)}")
                self.list.addItem(item)
        self.empty.setVisible(not self.citations)
        self.list.setVisible(bool(self.citations))
        if select is not None:
            for row, c in enumerate(self.citations):
                if c.number == select:
                    self.list.setCurrentRow(row)
                    self.source_activated.emit(c)

    def preview(self, citation: Citation) -> None:
        """Preview ``citation`` (a quote, say: part of a listed passage), marking its passage in the list."""
        self.mark(citation.number)
        self.source_activated.emit(citation)

    def mark(self, number: int) -> None:
        """Select the listed passage [``number``] (none if it is not listed) without previewing it."""
        rows = [row for row, c in enumerate(self.citations) if c.number == number]
        if rows:
            self.list.setCurrentRow(rows[0])
        else:
            self.list.setCurrentRow(-1)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.source_activated.emit(item.data(CITATION_ROLE))

    def show_rendering(self, citation: Citation) -> None:
        where = place_label(citation.path, citation.page)
        self.page_title.setText(f"{citation.file} · {where}")
        verb = "Rendering" if is_pdf(citation.path) else "Showing"
        self.page_view.show_message(f"{verb} {where} of {citation.file}…")
        self.open_button.show()
        self._open_target = (citation.path, citation.page)

    def show_page(self, page: RenderedPage) -> None:
        self.page_view.show_page(page)
        if page.is_text:
            note = "" if page.span else "  (the passage could not be located in the section)"
            self.page_title.setText(f"{self.page_title.text().split(' · ')[0]} · {page.label}{note}")
            return
        note = "" if page.highlights else "  (the passage could not be located on the page)"
        self.page_title.setText(f"{self.page_title.text().split(' · ')[0]} · page {page.number} of "
                                f"{page.page_count}{note}")

    def show_page_error(self, message: str) -> None:
        self.page_view.show_message(message)

    def _on_open_button_clicked(self) -> None:
        if self._open_target is not None:
            self.open_requested.emit(*self._open_target)

    def open_current(self) -> None:
        self._on_open_button_clicked()
