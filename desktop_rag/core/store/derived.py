"""Facts derived from the library's content that later stages need on every question (a page is a
table of contents, a document's running headers), worked out once and kept while the library
stays the same. Any commit, by this connection or another, drops them all."""

from __future__ import annotations

import sqlite3
from typing import Callable, Hashable, Iterable, Mapping, TypeVar

V = TypeVar("V")
MAX_FACTS = 100_000


class DerivedFacts:
    """Derived values by key; kept until the library changes (SQLite's data_version, or
    :meth:`invalidate` for this connection's own writes)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._version = -1
        self._values: dict[Hashable, object] = {}

    def invalidate(self) -> None:
        self._values.clear()

    def get_many(self, keys: Iterable[Hashable],
                 compute: Callable[[list[Hashable]], Mapping[Hashable, V]]) -> dict[Hashable, V]:
        """The values of ``keys``; ``compute(missing keys)`` gives those not known yet."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version or len(self._values) > MAX_FACTS:
            self.invalidate()
            self._version = version
        keys = list(dict.fromkeys(keys))
        missing = [k for k in keys if k not in self._values]
        if missing:
            self._values.update(compute(missing))
        return {k: self._values[k] for k in keys if k in self._values}  # type: ignore[misc]
