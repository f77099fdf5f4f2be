"""The chat's scope selector: what the next question may search. "All documents", each
collection (with its count), or "Selected documents (N)", which follows the library's selection."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from desktop_rag.core.search.scope import ALL_DOCUMENTS, EVERYTHING, Scope
from desktop_rag.core.store.collections import CollectionInfo

ALL, SELECTED = "all", "selected"  # item data; a collection's is "collection:<id>"
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def _count(n: int) -> str:
    return f"{n} document{'s' if n != 1 else ''}"


def _key(collection_id: int) -> str:
    return f"collection:{collection_id}"


def _collection_id(key: str | None) -> int | None:
    return int(key.split(":", 1)[1]) if key and key.startswith("collection:") else None


class ScopeSelector(QComboBox):
    """Items carry ``all``, ``selected`` or ``collection:<id>``. The chosen collection is held by
    id: a rename keeps it, and if it is deleted the selector falls back to "All documents" (see
    :meth:`set_collections`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Search in")
        self.setToolTip("Which documents the next question searches: all of them, one collection, "
                        "or the documents selected in the library")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(14)
        self._collections: dict[int, CollectionInfo] = {}
        self._selected: list[tuple[int, str]] = []  # (doc id, file name) selected in the library
        self._rebuild(ALL)

    # ------------------------------------------------------------------ contents

    def set_collections(self, collections: Sequence[CollectionInfo]) -> str | None:
        """Show these collections; returns the name of the chosen collection if it is gone (the
        selector then shows "All documents"), else None."""
        chosen = self.currentData() or ALL
        chosen_id, gone = _collection_id(chosen), None
        if chosen_id is not None and chosen_id not in {c.id for c in collections}:
            previous = self._collections.get(chosen_id)
            gone, chosen = (previous.name if previous else ""), ALL
        self._collections = {c.id: c for c in collections}
        self._rebuild(chosen)
        return gone

    def set_selected_documents(self, documents: Sequence[tuple[int, str]]) -> None:
        """The library's selection: (doc id, file name) of each selected document."""
        self._selected = list(documents)
        i = self.findData(SELECTED)
        if i >= 0:
            self.setItemText(i, f"Selected documents ({len(self._selected)})")

    def _rebuild(self, chosen: str) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem(ALL_DOCUMENTS, ALL)
        for c in self._collections.values():
            self.addItem(f"{c.name} ({c.count})", _key(c.id))
            self.setItemData(self.count() - 1, f"Collection {c.name!r}: {_count(c.count)}", TOOLTIP)
        self.addItem(f"Selected documents ({len(self._selected)})", SELECTED)
        self.setItemData(self.count() - 1, "The documents selected in the library", TOOLTIP)
        self.setCurrentIndex(max(self.findData(chosen), 0))
        self.blockSignals(False)

    # ------------------------------------------------------------------ choosing

    def choose_collection(self, collection_id: int) -> None:
        self.setCurrentIndex(max(self.findData(_key(collection_id)), 0))

    def choose_selected(self) -> None:
        self.setCurrentIndex(self.findData(SELECTED))

    def choose_all(self) -> None:
        self.setCurrentIndex(0)

    def scope(self) -> Scope:
        """What the next question searches, as the job takes it."""
        key = self.currentData() or ALL
        collection_id = _collection_id(key)
        if collection_id is not None and collection_id in self._collections:
            return Scope(self._collections[collection_id].name, collection_id=collection_id)
        if key == SELECTED:
            ids = tuple(doc_id for doc_id, _ in self._selected)
            label = self._selected[0][1] if len(ids) == 1 else f"{len(ids)} selected documents"
            return Scope(label, doc_ids=ids)
        return EVERYTHING

