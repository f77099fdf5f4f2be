"""Copies of models kept in the cache folder: marked when used, removed once long unused.

A copy's name says which model file it was made from by a hash of that file's path (a fine-tuned
model keeps its base model's size and config). A copy of a model that is gone (a reinstalled
virtual environment, an older desktop bundle's folder, a deleted clone) is never asked for again:
each such install left another 90-145 MB in ``~/.cache/desktop-rag/models``. Using a copy marks
it (its modification time); making one removes the copies of the same kind unused for
:data:`UNUSED_DAYS`. One still wanted is made again when next needed, once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

UNUSED_DAYS = 30


def mark_used(copy: Path) -> None:
    """Record that ``copy`` was just used (best effort: a read-only cache keeps its old time)."""
    with contextlib.suppress(OSError):
        os.utime(copy)


def remove_unused(cache_dir: Path, pattern: str, keep: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Delete the files of ``cache_dir`` matching ``pattern`` (a glob), other than ``keep``, not used
    for ``days`` (0: all of them, copies of an older version of ``keep``'s source); the ones deleted."""
    cutoff = time.time() - days * 86400
    removed = []
    for stale in cache_dir.glob(pattern):
        with contextlib.suppress(OSError):
            if stale != keep and stale.is_file() and stale.stat().st_mtime < cutoff:
                stale.unlink()
                removed.append(stale)
    if removed:
        log.info("removed %d model copies (%s) unused for %g days from %s", len(removed), pattern, days, cache_dir)
    return removed
