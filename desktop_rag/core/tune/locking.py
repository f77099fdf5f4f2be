"""One tuning (or return to the original model) per library at a time, across processes.

An advisory lock on ``tune.lock`` in the data folder: the operating system lets it go when the
process ends, however it ends, so a killed run never leaves the library locked.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from desktop_rag.core.tune.state import LOCK_NAME
from desktop_rag.errors import TuneError

BUSY = ("search is already being adapted to this library (or returned to the original model) by another "
        "window or command; wait for it to finish")


@contextmanager
def tune_lock(data_dir: Path) -> Iterator[None]:
    """Hold the library's tuning lock; TuneError at once when another run holds it."""
    path = Path(data_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            raise TuneError(BUSY)
        yield
    finally:
        os.close(fd)  # closing lets the lock go


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: a byte-range lock on the file
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
