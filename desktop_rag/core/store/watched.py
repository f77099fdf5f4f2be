"""Watched folders: the folders whose documents the library keeps up to date by itself (new, changed,
moved and deleted files are indexed, re-indexed or removed while the application runs).

They live in the library's database, beside the documents they bring in. Forgetting a folder never
removes its documents: the user removes those as any others. A folder is kept by its absolute path;
one inside (or equal to) a folder already watched is refused, since its files are watched already,
and watching a folder that holds watched ones replaces them with it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop_rag.core.filenames import display_path
from desktop_rag.core.store.schema import path_from_db, path_to_db
from desktop_rag.errors import WatchError


@dataclass(frozen=True, slots=True)
class WatchedFolder:
    path: str
    added_at: float


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (paths compared as given: absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def checked_folder(raw: str | os.PathLike[str]) -> str:
    """The absolute path of a folder that can be watched now; :class:`WatchError` saying why not."""
    folder = Path(os.path.abspath(Path(raw).expanduser()))
    shown = display_path(folder)
    try:
        if not folder.exists():
            raise WatchError(f"{shown}: folder not found")
        if not folder.is_dir():
            raise WatchError(f"{shown}: is a file, not a folder (watch the folder that holds it)")
        with os.scandir(folder):
            pass
    except PermissionError as exc:
        raise WatchError(f"{shown}: cannot be read (permission denied)") from exc
    except OSError as exc:
        raise WatchError(f"{shown}: cannot be read ({exc.strerror or exc})") from exc
    return str(folder)


class WatchedFolders:
    """The watched folders of one library connection (``writing`` as for the collections)."""

    def __init__(self, db: sqlite3.Connection, writing: Callable[[], AbstractContextManager[None]]) -> None:
        self._db = db
        self._writing = writing

    def all(self) -> list[WatchedFolder]:
        rows = self._db.execute("SELECT path, added_at FROM watched_folders ORDER BY path").fetchall()
        return [WatchedFolder(path_from_db(p), t) for p, t in rows]

    def folder_of(self, path: str) -> WatchedFolder | None:
        """The watched folder ``path`` lies in, if any."""
        return next((f for f in self.all() if is_within(path, f.path)), None)

    def add(self, raw: str | os.PathLike[str]) -> tuple[WatchedFolder, list[str]]:
        """Watch a folder (checked: :func:`checked_folder`); returns it and the watched folders it
        replaces (those inside it). :class:`WatchError` if it is watched already, or lies in one."""
        folder = checked_folder(raw)
        with self._writing():
            existing = self.all()
            holder = next((f for f in existing if is_within(folder, f.path)), None)
            if holder is not None:
                where = "is watched already" if holder.path == folder else f"is inside {display_path(holder.path)}, " \
                                                                           "which is watched already"
                raise WatchError(f"{display_path(folder)} {where}")
            inside = [f.path for f in existing if is_within(f.path, folder)]
            self._db.executemany("DELETE FROM watched_folders WHERE path=?", [(path_to_db(p),) for p in inside])
            added = WatchedFolder(folder, time.time())
            self._db.execute("INSERT INTO watched_folders(path, added_at) VALUES (?, ?)",
                             (path_to_db(added.path), added.added_at))
        return added, inside

    def remove(self, raw: str | os.PathLike[str]) -> WatchedFolder:
        """Stop watching a folder (its documents stay in the library); :class:`WatchError` if it is
        not watched. The folder need not exist any more (a drive that is gone for good)."""
        folder = os.path.abspath(Path(raw).expanduser())
        found = next((f for f in self.all() if f.path == folder), None)
        if found is None:
            watched = ", ".join(display_path(f.path) for f in self.all()) or "none"
            raise WatchError(f"{display_path(folder)} is not watched (watched: {watched})")
        with self._writing():
            self._db.execute("DELETE FROM watched_folders WHERE path=?", (path_to_db(found.path),))
        return found
