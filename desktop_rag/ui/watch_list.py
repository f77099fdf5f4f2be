"""The library's watched folders: what is watched and what each is doing (idle, scanning, indexing
N files, error), "Watch a folder…" and "Stop watching". It shows states and emits requests; the
:class:`~desktop_rag.ui.watch_controller.WatchController` does the work."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QStyle, QVBoxLayout, QWidget)

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.watching import FolderState, FolderStatus

HINT = "Watch a folder to keep the library up to date: new, changed and deleted files are picked up by themselves."
ROWS_SHOWN = 4  # the list grows to this many rows, then scrolls
PATH_ROLE = Qt.ItemDataRole.UserRole


class WatchedFoldersView(QWidget):
    watch_requested = Signal(str)  # a folder chosen in the dialog
    unwatch_requested = Signal(str)  # a watched folder's path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.states: list[FolderState] = []
        self.watch_button = QPushButton("Watch a folder…")
        self.watch_button.setToolTip("Index a folder and keep it indexed: new, changed, moved and deleted files "
                                     "are picked up while the app runs, and at the next start")
        self.watch_button.clicked.connect(self.choose_folder)
        self.stop_button = QPushButton("Stop watching")
        self.stop_button.setToolTip("Stop watching the selected folder (its documents stay in the library)")
        self.stop_button.clicked.connect(self.stop_selected)
        self.list = QListWidget()
        self.list.setAccessibleName("Watched folders")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # long names are elided
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setUniformItemSizes(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)  # drawn in the muted colour
        self._build_layout()
        self.show_states([])

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Watched folders</b>"))
        top.addStretch()
        top.addWidget(self.stop_button)
        top.addWidget(self.watch_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder", str(Path.home()))
        if folder:
            self.watch_requested.emit(folder)

    def selected_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None and item.isSelected() else None

    def stop_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.unwatch_requested.emit(path)

    def show_states(self, states: Sequence[FolderState]) -> None:
        """One row per watched folder: its name and what it is doing (the full path in the tooltip)."""
        selected = self.selected_path()
        self.states = list(states)
        self.list.clear()
        for state in states:
            item = QListWidgetItem(self._icon(state), f"{display_name(state.path)} \u2014 {state.describe()}")
            item.setData(PATH_ROLE, state.path)
            item.setToolTip(f"{display_path(state.path)}\n{state.explain()}")
            self.list.addItem(item)
            item.setSelected(state.path == selected)
            if state.path == selected:
                self.list.setCurrentItem(item)
        rows = min(max(len(states), 1), ROWS_SHOWN)
        self.list.setFixedHeight(self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + 4
                                 if states else 0)
        self.list.setVisible(bool(states))
        self.hint.setVisible(not states)
        self._update_buttons()

    def _icon(self, state: FolderState) -> Any:
        pixmap = {FolderStatus.MISSING: QStyle.StandardPixmap.SP_MessageBoxWarning,
                  FolderStatus.ERROR: QStyle.StandardPixmap.SP_MessageBoxWarning,
                  FolderStatus.INDEXING: QStyle.StandardPixmap.SP_BrowserReload,
                  FolderStatus.SCANNING: QStyle.StandardPixmap.SP_BrowserReload}.get(state.status,
                                                                                      QStyle.StandardPixmap.SP_DirIcon)
        return self.style().standardIcon(pixmap)

    def _update_buttons(self) -> None:
        self.stop_button.setVisible(bool(self.states))
        self.stop_button.setEnabled(self.selected_path() is not None)

    def _on_list_context_menu(self, pos: Any) -> None:
        if self.selected_path() is None:
            return
        menu = QMenu(self)
        menu.addAction("Stop watching (keep its documents)", self.stop_selected)
        menu.exec(self.list.viewport().mapToGlobal(pos))
