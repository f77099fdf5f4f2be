"""Connects the library's collection actions and selection to the engine and the chat's scope
selector: every change runs on a worker, and the library and the selector are shown again after it."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject

from desktop_rag.core.store.collections import CollectionInfo
from desktop_rag.core.store.library import Store
from desktop_rag.ui.chat_panel import ChatPanel
from desktop_rag.ui.collection_bar import documents
from desktop_rag.ui.engine import Engine
from desktop_rag.ui.library_panel import LibraryPanel


class CollectionsController(QObject):
    def __init__(self, engine: Engine, library: LibraryPanel, chat: ChatPanel,
                 show_status: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.library, self.chat, self.show_status = engine, library, chat, show_status
        library.selection_changed.connect(chat.scope.set_selected_documents)
        library.collection_create_requested.connect(self._on_library_collection_create_requested)
        library.collection_add_requested.connect(self._on_library_collection_add_requested)
        library.collection_remove_requested.connect(self._on_library_collection_remove_requested)
        library.collection_rename_requested.connect(self._on_library_collection_rename_requested)
        library.collection_delete_requested.connect(self._on_library_collection_delete_requested)
        engine.data_dir_changed.connect(self._on_engine_data_dir_changed)

    def _on_engine_data_dir_changed(self) -> None:
        # Another library: its collections are others, even where an id is the same.
        self.library.filter.show_collection(None)
        self.chat.scope.choose_all()

    def refresh(self) -> list[CollectionInfo]:
        """Show the collections the library holds now, in the library and in the scope selector."""
        collections = self.engine.collections()
        self.library.set_collections(collections)
        gone = self.chat.scope.set_collections(collections)
        if gone is not None:
            self.show_status(f"The collection \u201c{gone}\u201d was deleted: questions now search all documents.")
        return collections

    def _change(self, change: Callable[[Store], Any], what: str, done: Callable[[Any], str]) -> None:
        self.engine.change_collections(change, what, returned=lambda result: self.show_status(done(result)))

    def _on_library_collection_create_requested(self, name: str, doc_ids: Sequence[int]) -> None:
        self._change(lambda store: store.collections.create(name, doc_ids), "Making a collection",
                     lambda c: f"Made the collection \u201c{c.name}\u201d of {documents(c.count)}")

    def _on_library_collection_add_requested(self, collection_id: int, doc_ids: Sequence[int]) -> None:
        self._change(lambda store: store.collections.add(collection_id, doc_ids), "Adding to a collection",
                     lambda n: f"Added {documents(n)} to the collection")

    def _on_library_collection_remove_requested(self, collection_id: int, doc_ids: Sequence[int]) -> None:
        self._change(lambda store: store.collections.remove(collection_id, doc_ids), "Taking out of a collection",
                     lambda n: f"Took {documents(n)} out of the collection (they stay in the library)")

    def _on_library_collection_rename_requested(self, collection_id: int, name: str) -> None:
        self._change(lambda store: store.collections.rename(collection_id, name), "Renaming a collection",
                     lambda c: f"Renamed the collection to \u201c{c.name}\u201d")

    def _on_library_collection_delete_requested(self, collection_id: int) -> None:
        self._change(lambda store: store.collections.delete(collection_id), "Deleting a collection",
                     lambda _: "Deleted the collection (its documents stay in the library)")
