"""One open library store that the window's questions share, one at a time. Plain Python, no Qt."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from desktop_rag.core.store.library import Store


class SharedStore:
    """A store kept open across questions, so its FAISS cache and word statistics are read once,
    not for every question (at 100,000 chunks: a 150 MB file, then a map of every chunk). It
    notices commits by ingestion through SQLite's data_version, as any store does.

    Users take turns. Retiring it (the data folder changed, the window closes) closes it at
    once, or when the user holding it lets go; a user that comes later opens a store of its own.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store = Store(path)
        self._turn = threading.Lock()
        self._mutex = threading.Lock()  # guards the two fields below
        self._users = 0
        self._retired = False

    @contextmanager
    def use(self) -> Iterator[Store]:
        with self._mutex:
            retired = self._retired
            self._users += not retired
        if retired:
            with Store(self.path) as store:
                yield store
            return
        try:
            with self._turn:
                yield self._store
        finally:
            self._leave(1)

    def retire(self) -> None:
        with self._mutex:
            already, self._retired = self._retired, True
        if not already:
            self._leave(0)

    def _leave(self, users: int) -> None:
        with self._mutex:
            self._users -= users
            last = self._retired and self._users == 0
        if last:
            self._store.close()
