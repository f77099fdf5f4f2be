"""Opening a SQLite file of the data folder: for writing, or for reading only.

A library on a read-only share, a DVD or a backup must still be listed, searched and asked; only
changes are refused. Opened for reading, a connection can write nothing (``PRAGMA query_only``), so
every attempt is a :class:`~desktop_rag.errors.StoreWriteError` saying the folder is read-only.

SQLite reads a WAL database with ``mode=ro`` only if it can make the ``-shm`` file beside it, which
a folder nobody may write forbids; there the file is opened ``immutable`` (it cannot change under
us: nobody can write that folder through this system).
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import urllib.parse
from pathlib import Path

from desktop_rag.errors import StoreError, StoreWriteError

log = logging.getLogger(__name__)

READ_ONLY = "the data folder is read-only"


def writable(folder: Path, db: Path) -> bool:
    # SQLite says only "unable to open database file" when it cannot create its -wal/-shm files.
    return os.access(folder, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def write_error(folder: Path, exc: BaseException | None = None, db: Path | None = None) -> StoreWriteError:
    """The error for a change to ``db`` in ``folder`` that could not be written (nothing of it was
    kept); without ``exc``: a change refused because the library was opened for reading only."""
    text = str(exc).lower() if exc is not None else "readonly"
    if "full" in text or getattr(exc, "errno", None) == errno.ENOSPC:
        why = "the disk is full"
    elif any(word in text for word in ("readonly", "read-only")) or isinstance(exc, PermissionError) \
            or not writable(folder, db or folder):
        why = READ_ONLY
    else:
        why = str(exc)
    return StoreWriteError(f"cannot write to the library in {folder}: {why}; nothing was changed")


def check_folder(folder: Path) -> None:
    """A data folder that is a file (or cannot be looked at) is a :class:`StoreError` saying so."""
    try:
        is_file = folder.exists() and not folder.is_dir()
    except OSError as exc:
        raise StoreError(f"the data folder {folder} cannot be opened: {exc.strerror or exc}") from exc
    if is_file:
        raise StoreError(f"the data folder {folder} is a file, not a folder: choose another data folder")


def can_write(folder: Path, db: Path, read_only: bool | None) -> bool:
    """Whether to open for writing: never when ``read_only``; when it is None, if the folder exists
    (it is made here) and may be written. ``read_only=False`` and a folder that cannot be made or
    written is a :class:`StoreWriteError`."""
    check_folder(folder)
    if read_only:
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if read_only is None:
            return False
        raise write_error(folder, exc) from exc
    if read_only is None:
        return writable(folder, db)
    return True


def _uri(db: Path, immutable: bool) -> str:
    return f"file:{urllib.parse.quote(os.fsencode(db.absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")


def connect_read_only(db: Path) -> sqlite3.Connection:
    """A connection that reads ``db`` and can write nothing (see the module docstring)."""
    for immutable in (False, True):
        conn = sqlite3.connect(_uri(db, immutable), uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if immutable or "unable to open" not in str(exc):
                raise
            log.info("%s: the folder cannot be written; reading the library as it is on disk", db)
    raise AssertionError("unreachable")


def connect(db: Path, for_writing: bool) -> sqlite3.Connection:
    """The connection to ``db``: for writing, or for reading only (an absent file reads as a new,
    empty database held in memory)."""
    if for_writing:
        return sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    if not db.exists():
        return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    return connect_read_only(db)
