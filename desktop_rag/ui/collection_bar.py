"""The library's collections: the bar above the document table (show all documents or one
collection, with counts, and a menu of collection actions) and the dialogs that name a collection
and confirm deleting one. No business logic: the panel emits what the user asked for."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.store.collections import MAX_NAME_CHARS, CollectionInfo, check_new_name
from desktop_rag.errors import CollectionError

ALL_KEY = -1  # the filter's item for every document


def documents(n: int) -> str:
    return f"{n} document{'s' if n != 1 else ''}"


class CollectionFilter(QWidget):
    """"Show: [All documents (12) | Reports (5) | ...] [Collection ▾]"."""

    changed = Signal()  # another collection (or all documents) is shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.collections: dict[int, CollectionInfo] = {}
        self.combo = QComboBox()
        self.combo.setAccessibleName("Show collection")
        self.combo.setToolTip("Show every document, or only those of one collection")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        self.menu = QMenu(self)
        self.menu_button = QPushButton("Collection")
        self.menu_button.setToolTip("Make, change, rename or delete collections")
        self.menu_button.setMenu(self.menu)
        label = QLabel("Show:")
        label.setBuddy(self.combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.menu_button)
        self.set_collections([], 0)

    def set_collections(self, collections: Sequence[CollectionInfo], total: int) -> None:
        """Show these collections; the one shown stays shown while it exists (else: all documents)."""
        shown = self.current_id()
        self.collections = {c.id: c for c in collections}
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(f"All documents ({total})", ALL_KEY)
        for c in collections:
            self.combo.addItem(f"{c.name} ({c.count})", c.id)
        index = self.combo.findData(shown) if shown is not None else 0
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        if shown is not None and index < 0:
            self.changed.emit()

    def current_id(self) -> int | None:
        """The id of the collection shown, or None for all documents."""
        key = self.combo.currentData()
        return None if key is None or key == ALL_KEY else int(key)

    def current(self) -> CollectionInfo | None:
        key = self.current_id()
        return None if key is None else self.collections.get(key)

    def show_collection(self, collection_id: int | None) -> None:
        self.combo.setCurrentIndex(max(self.combo.findData(ALL_KEY if collection_id is None else collection_id), 0))

    def _on_combo_current_index_changed(self, _index: int) -> None:
        self.changed.emit()


class NameDialog(QDialog):
    """Asks for a collection name; OK only for a name that is valid and free (the reason shows)."""

    def __init__(self, title: str, prompt: str, existing: Sequence[CollectionInfo], *, name: str = "",
                 renaming: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.existing, self.renaming = list(existing), renaming
        self.edit = QLineEdit(name)
        self.edit.setMaxLength(MAX_NAME_CHARS + 20)  # a longer paste is refused with the reason
        self.edit.setAccessibleName("Collection name")
        self.edit.selectAll()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.edit)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self._on_edit_text_changed(name)

    def _on_edit_text_changed(self, text: str) -> None:
        try:
            check_new_name(text, self.existing, self.renaming)
            why = ""
        except CollectionError as exc:
            why = str(exc)[0].upper() + str(exc)[1:] + "." if text.strip() else ""
        self.problem.setText(why)
        self.problem.setVisible(bool(why))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()) and not why)

    def name(self) -> str:
        return " ".join(self.edit.text().split())


def ask_name(parent: QWidget, title: str, prompt: str, existing: Sequence[CollectionInfo], *, name: str = "",
             renaming: int | None = None) -> str | None:
    """The name the user typed, or None if they cancelled."""
    dialog = NameDialog(title, prompt, existing, name=name, renaming=renaming, parent=parent)
    return dialog.name() if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm_delete(parent: QWidget, collection: CollectionInfo) -> bool:
    answer = QMessageBox.question(
        parent, "Delete collection",
        f"Delete the collection \u201c{collection.name}\u201d?\n\nIts {documents(collection.count)} stay in the "
        "library: deleting a collection never deletes documents.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes
