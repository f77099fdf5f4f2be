"""The library: a drop zone for documents and folders, the collections, the document table, progress
and counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.store.collections import CollectionInfo
from desktop_rag.core.text import counted
from desktop_rag.core.types import IngestProgress
from desktop_rag.ui.collection_bar import CollectionFilter, ask_name, confirm_delete
from desktop_rag.ui.library_model import (
    CHUNKS,
    NAME,
    NOT_INDEXED,
    PAGES,
    PROGRESS,
    STATUS,
    DocumentRow,
    DocumentTableModel,
    ProgressDelegate,
)
from desktop_rag.ui.watch_list import WatchedFoldersView

EMPTY_TEXT = ("<h2>Your library is empty</h2>"
              "<p>Drop files or folders here, or click <b>Add files…</b> (Ctrl+O): PDF, Word (.docx), "
              "PowerPoint (.pptx), e-books (.epub), Markdown (.md), HTML and plain text (.txt).</p>"
              "<p>Each document is read, split into passages and indexed on this computer; "
              "nothing leaves it. Then ask questions in the chat: answers cite the page or section they came from.</p>")


# The add-files dialog's filters: every format the library reads, then each alone.
FILE_FILTERS = ";;".join((
    "Documents (*.pdf *.PDF *.docx *.pptx *.epub *.md *.markdown *.html *.htm *.txt)", "PDF files (*.pdf *.PDF)",
    "Word documents (*.docx)", "PowerPoint slides (*.pptx)", "E-books (*.epub)", "Markdown (*.md *.markdown)",
    "Web pages (*.html *.htm)", "Text files (*.txt)",
    "All files (*)",
))


def pdf_paths_from_mime(mime: QMimeData) -> list[str]:
    """Local files and folders from a drag; anything else (web links, text) is ignored."""
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class LibraryPanel(QWidget):
    files_added = Signal(list)  # paths: files and folders, from a drop or the file dialog
    remove_requested = Signal(list)  # DocumentRow
    reindex_requested = Signal(object)  # paths (a list of str, kept as they are: see core.filenames)
    cancel_requested = Signal()
    selection_changed = Signal(list)  # (doc id, file name) of each selected document the library holds
    collection_create_requested = Signal(str, list)  # name, doc ids
    collection_add_requested = Signal(int, list)  # collection id, doc ids
    collection_remove_requested = Signal(int, list)  # collection id, doc ids (out of the collection only)
    collection_rename_requested = Signal(int, str)  # collection id, new name
    collection_delete_requested = Signal(int)  # collection id (never its documents)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.model = DocumentTableModel(self)
        self.filter = self._make_filter()
        self.add_button = QPushButton("Add files…")
        self.add_button.setToolTip("Add documents (PDF, .docx, .pptx, .epub, .md, .html, .txt) to the library (Ctrl+O)")
        self.add_button.clicked.connect(self.choose_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.setToolTip("Add every document (PDF, .docx, .pptx, .epub, .md, .html, .txt) in a folder "
                                          "and its subfolders")
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._empty_page())
        self.table = self._make_table()
        self.stack.addWidget(self.table)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected documents from the library (Del). The files stay on disk.")
        self.remove_button.clicked.connect(self.remove_selected)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip("Read and index the selected documents again (Ctrl+R)")
        self.reindex_button.clicked.connect(self.reindex_selected)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop indexing; documents already indexed are kept")
        self.cancel_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserStop))
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.overall = QProgressBar()
        self.overall.setAccessibleName("Overall indexing progress")
        self.overall_label = QLabel()
        self.details = QLabel()  # the full status of the current row (a failure's whole reason)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counts_label = QLabel()
        self.counts_label.setAccessibleName("Library counts")
        self.watched = WatchedFoldersView()  # driven by the window's WatchController
        self._build_layout()
        self.model.modelReset.connect(self._on_model_changed)
        self.model.rowsInserted.connect(self._on_model_changed)
        self.model.dataChanged.connect(self._on_model_data_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self._on_model_changed()

    # ------------------------------------------------------------------ construction

    def _empty_page(self) -> QWidget:
        page = QFrame()
        page.setObjectName("dropZone")
        page.setFrameShape(QFrame.Shape.StyledPanel)
        page.setStyleSheet("#dropZone { border: 2px dashed palette(mid); border-radius: 8px; }")
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(EMPTY_TEXT)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.add_folder_button)
        buttons.addStretch()
        layout = QVBoxLayout(page)
        layout.addStretch()
        layout.addWidget(icon)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addStretch()
        return page

    def _make_filter(self) -> CollectionFilter:
        bar = CollectionFilter()
        bar.changed.connect(self._on_filter_changed)
        bar.menu.aboutToShow.connect(self._on_filter_menu_about_to_show)
        return bar

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(table))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.setAccessibleName("Documents in the library")
        header = table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(NAME, 160)
        # Fixed widths, not ResizeToContents: that asks every row's data on every progress event
        # (about 400 calls into Python per event, each waiting for the GIL the worker holds).
        digits = table.fontMetrics().horizontalAdvance("0000000")
        for col in (PAGES, CHUNKS):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            table.setColumnWidth(col, digits)
        table.setColumnWidth(PROGRESS, 70)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_table_context_menu)
        remove = QAction("Remove", table)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.remove_selected)
        table.addAction(remove)
        return table

    def _build_layout(self) -> None:
        title = QLabel("<b>Library</b>")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch()
        self.top_add_button = QPushButton("Add files…")
        self.top_add_button.setToolTip("Add documents (Ctrl+O) - or drop files and folders anywhere on this panel")
        self.top_add_button.clicked.connect(self.choose_files)
        top.addWidget(self.top_add_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.overall_label)
        progress_row.addWidget(self.overall, 1)
        progress_row.addWidget(self.cancel_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.reindex_button)
        buttons.addStretch()
        buttons.addWidget(self.counts_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.filter)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.details)
        layout.addLayout(progress_row)
        layout.addLayout(buttons)
        layout.addWidget(self.watched)

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        if pdf_paths_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802
        if pdf_paths_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = pdf_paths_from_mime(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files_added.emit(paths)

    # ------------------------------------------------------------------ actions

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add documents", str(Path.home()), FILE_FILTERS)
        if files:
            self.files_added.emit(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add every document in a folder", str(Path.home()))
        if folder:
            self.files_added.emit([folder])

    def selected_rows(self) -> list[DocumentRow]:
        """The selected rows shown (a row hidden by the collection filter is never acted on)."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows if not self.table.isRowHidden(r)]

    def selected_documents(self) -> list[tuple[int, str]]:
        """(doc id, file name) of the selected documents the library holds."""
        return [(r.doc_id, r.name) for r in self.selected_rows() if r.doc_id is not None and not r.busy]

    def remove_selected(self) -> None:
        rows = [r for r in self.selected_rows() if not r.busy]
        if rows:
            self.remove_requested.emit(rows)

    def reindex_selected(self) -> None:
        paths = [r.path for r in self.selected_rows() if not r.busy]
        if paths:
            self.reindex_requested.emit(paths)

    def _on_table_context_menu(self, pos: Any) -> None:
        if not self.selected_rows():
            return
        menu = QMenu(self)
        menu.addAction("Re-index", self.reindex_selected)
        menu.addAction("Remove from library", self.remove_selected)
        menu.addSeparator()
        self._add_collection_actions(menu)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ collections

    def _add_collection_actions(self, menu: QMenu) -> None:
        """New, add to, remove from (the collection shown), rename and delete."""
        ids = [doc_id for doc_id, _ in self.selected_documents()]
        menu.addAction("New collection from selected…" if ids else "New collection…", self.new_collection)
        add_to = menu.addMenu("Add selected to collection")
        for c in self.filter.collections.values():
            add_to.addAction(f"{c.name} ({c.count})", lambda c=c: self.add_selected_to(c.id))
        add_to.setEnabled(bool(ids and self.filter.collections))
        shown = self.filter.current()
        if shown is None:
            return
        remove = menu.addAction(f"Remove selected from “{shown.name}”", self.remove_selected_from_collection)
        remove.setEnabled(bool(ids))
        menu.addSeparator()
        menu.addAction(f"Rename “{shown.name}”…", self.rename_collection)
        menu.addAction(f"Delete “{shown.name}”…", self.delete_collection)

    def _on_filter_menu_about_to_show(self) -> None:
        self.filter.menu.clear()
        self._add_collection_actions(self.filter.menu)

    def new_collection(self, name: str | None = None) -> None:
        """A collection of the selected documents (none selected: an empty one); asks the name unless given."""
        ids = [doc_id for doc_id, _ in self.selected_documents()]
        prompt = f"Name of the new collection of {len(ids)} selected documents:" if ids else "Name of the new collection:"
        name = name if name is not None else ask_name(self, "New collection", prompt,
                                                      list(self.filter.collections.values()))
        if name:
            self.collection_create_requested.emit(name, ids)

    def add_selected_to(self, collection_id: int) -> None:
        ids = [doc_id for doc_id, _ in self.selected_documents()]
        if ids:
            self.collection_add_requested.emit(collection_id, ids)

    def remove_selected_from_collection(self) -> None:
        shown, ids = self.filter.current(), [doc_id for doc_id, _ in self.selected_documents()]
        if shown is not None and ids:
            self.collection_remove_requested.emit(shown.id, ids)

    def rename_collection(self, name: str | None = None) -> None:
        shown = self.filter.current()
        if shown is None:
            return
        name = name if name is not None else ask_name(self, "Rename collection", f"New name of “{shown.name}”:",
                                                      list(self.filter.collections.values()), name=shown.name,
                                                      renaming=shown.id)
        if name and name != shown.name:
            self.collection_rename_requested.emit(shown.id, name)

    def delete_collection(self, confirmed: bool = False) -> None:
        """Delete the collection shown (after asking, unless ``confirmed``); its documents stay."""
        shown = self.filter.current()
        if shown is not None and (confirmed or confirm_delete(self, shown)):
            self.collection_delete_requested.emit(shown.id)

    def set_collections(self, collections: list[CollectionInfo]) -> None:
        stored = sum(1 for r in self.model.rows() if r.doc_id is not None)
        self.filter.set_collections(collections, stored)
        names: dict[int, list[str]] = {}
        for c in collections:
            for doc_id in c.doc_ids:
                names.setdefault(doc_id, []).append(c.name)
        self.model.collection_names = names
        self._apply_filter()

    def _apply_filter(self) -> None:
        """Show the rows of the collection shown (and the files being indexed), or every row."""
        shown = self.filter.current()
        members = set(shown.doc_ids) if shown is not None else None
        for i, r in enumerate(self.model.rows()):
            self.table.setRowHidden(i, members is not None and r.doc_id not in members and not r.busy)

    def _on_filter_changed(self) -> None:
        self._apply_filter()
        self._on_table_selection_changed()

    def _on_table_selection_changed(self, *args: Any) -> None:
        self._update_buttons()
        self.selection_changed.emit(self.selected_documents())

    # ------------------------------------------------------------------ state shown

    def apply_progress(self, event: IngestProgress) -> None:
        self.model.apply_progress(event)

    def set_stats(self, stats: dict[str, int]) -> None:
        failed = f" · {stats['failed']} failed" if stats.get("failed") else ""
        self.counts_label.setText(f"{counted(stats['documents'], 'document')} · {counted(stats['pages'], 'page')} · "
                                  f"{counted(stats['chunks'], 'chunk')}{failed}")

    def _on_model_changed(self, *args: Any) -> None:
        has_rows = self.model.rowCount() > 0
        self.stack.setCurrentIndex(1 if has_rows else 0)
        for widget in (self.top_add_button, self.remove_button, self.reindex_button, self.filter):
            widget.setVisible(has_rows)
        self._apply_filter()
        self._on_model_data_changed()

    def _on_model_data_changed(self, *args: Any) -> None:
        done, total, fraction = self.model.overall_progress()
        busy = any(r.busy for r in self.model.rows())
        self.table.setColumnHidden(PROGRESS, not busy)
        self.overall.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.overall_label.setVisible(busy)
        self.overall.setValue(int(fraction * 100))
        self.overall_label.setText(f"Indexing: {done} of {counted(total, 'file')} done")
        self._update_buttons()

    def _update_buttons(self, *args: Any) -> None:
        current = self.table.currentIndex()
        row = self.model.row(current.row()) if current.isValid() and current.row() < self.model.rowCount() else None
        self.details.setText(f"{row.name}: {row.status_text}" if row and row.status in NOT_INDEXED else "")
        self.details.setVisible(bool(self.details.text()))
        selected = [r for r in self.selected_rows() if not r.busy]
        self.remove_button.setEnabled(bool(selected))
        self.reindex_button.setEnabled(bool(selected))

    def focus_table(self) -> None:
        self.table.setFocus()
