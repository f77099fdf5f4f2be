"""What to do about changes under watched folders: plain values in, a plan out. No threads, no Qt.

Three pieces, each testable alone:

- :func:`is_ignored`: the files a watched folder never indexes: hidden files and folders, Office
  lock files (``~$report.docx``), editor and download leftovers (``.swp``, ``~``, ``.part``, ...).
- :class:`Coalescer`: file-system events by path, released once a path has been quiet for
  ``quiet_s`` (a file saved ten times in a row is indexed once), or ``max_wait_s`` after its first
  event (a file written to without pause is still indexed now and then).
- :func:`plan_changes`: for paths that changed (files or folders), which files to index and which
  stored documents to remove, by comparing each file's size and modification time with what the
  library holds. The start-up scan is the same call with the watched folders themselves as paths.

A file whose stored copy failed is retried only when its size or time changes, so a file that
cannot be read is reported once, not on every event or every start; likewise a file handed to
ingestion this session (``settled``) is not handed over again until it changes (a copy of a file
stored under another path is skipped by ingestion, and would otherwise be offered forever).
"""

from __future__ import annotations

import logging
import os
import stat as stat_module
import threading
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from desktop_rag.core.ingest.formats import is_supported
from desktop_rag.core.store.watched import is_within
from desktop_rag.core.types import DocumentInfo

log = logging.getLogger(__name__)

DEFAULT_QUIET_S = 1.5  # a path is acted on once nothing happened to it for this long
DEFAULT_MAX_WAIT_S = 30.0  # ... or this long after its first event, however busy it stays

# Lock, backup and partial-download files editors, office suites and browsers leave beside documents.
IGNORED_PREFIXES = ("~$", ".~lock.", "#", ".#")
IGNORED_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".temp", ".part", ".partial", ".crdownload",
                    ".download", ".bak", "#")

Signature = tuple[int, float]  # a file's size and modification time, as the library keeps them


def is_ignored(path: str, root: str) -> bool:
    """Whether a file under the watched folder ``root`` is one a watched folder never indexes: a
    name or a folder on its way from ``root`` that is hidden (starts with a dot), or a lock, backup
    or temporary file."""
    relative = os.path.relpath(path, root) if is_within(path, root) else os.path.basename(path)
    parts = [p for p in relative.split(os.sep) if p not in ("", ".")]
    if any(p.startswith(".") for p in parts):
        return True
    name = parts[-1] if parts else ""
    return name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES)


def wanted(path: str, root: str) -> bool:
    """A file of a format the library reads, and not one :func:`is_ignored` names."""
    return is_supported(path) and not is_ignored(path, root)


class Coalescer:
    """Events by path, released when quiet (see the module docstring). Thread-safe: the watcher's
    thread calls :meth:`note`, the owner's thread :meth:`due`."""

    def __init__(self, quiet_s: float = DEFAULT_QUIET_S, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        self.quiet_s, self.max_wait_s = quiet_s, max_wait_s
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, path: str, now: float) -> None:
        with self._lock:
            self._first.setdefault(path, now)
            self._last[path] = now

    def due(self, now: float) -> list[str]:
        """The paths to act on now (each released once per burst of events), in path order."""
        with self._lock:
            ready = sorted(p for p, last in self._last.items()
                           if now - last >= self.quiet_s or now - self._first[p] >= self.max_wait_s)
            for p in ready:
                del self._first[p], self._last[p]
        return ready

    def forget_under(self, folder: str) -> None:
        """Drop the waiting events of a folder no longer watched (or gone: its return is scanned)."""
        with self._lock:
            for p in [p for p in self._last if is_within(p, folder)]:
                del self._first[p], self._last[p]

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)


@dataclass(slots=True)
class ChangePlan:
    """What to do: files to index (new or changed), stored documents to remove (their file is gone),
    and how many files were looked at and found as stored."""

    index: list[str] = field(default_factory=list)
    remove: list[DocumentInfo] = field(default_factory=list)
    unchanged: int = 0

    def __bool__(self) -> bool:
        return bool(self.index or self.remove)


def signature_of(path: str) -> Signature | None:
    """The size and time of a regular file (links followed); None if there is none at ``path``."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat_module.S_ISREG(status.st_mode):
        return None
    return status.st_size, status.st_mtime


def files_under(folder: str, root: str) -> list[str]:
    """The files :func:`wanted` under ``folder`` (inside the watched ``root``), hidden folders not
    entered; a folder that cannot be read is skipped (and logged)."""
    found: list[str] = []

    def unreadable(exc: OSError) -> None:
        log.warning("a folder under a watched folder cannot be read: %s", exc)

    for top, folders, names in os.walk(folder, onerror=unreadable):
        folders[:] = sorted(d for d in folders if not d.startswith("."))
        found.extend(p for p in (os.path.join(top, n) for n in sorted(names)) if wanted(p, root))
    return found


def plan_changes(paths: Iterable[str], roots: Sequence[str], stored: Mapping[str, DocumentInfo],
                 settled: Mapping[str, Signature] | None = None) -> ChangePlan:
    """The plan for ``paths`` that changed (files, or folders: everything under them) inside the
    watched folders ``roots`` (a path in none, or in one that is not there now, is left alone: a
    folder that is gone keeps its documents until it returns). ``stored``: the library's documents by path;
    ``settled``: files ingestion finished with this session, with the signature they had then."""
    settled = settled or {}
    present = [r for r in roots if os.path.isdir(r)]  # looked at now: a drive may have gone since it was listed
    plan, seen = ChangePlan(), set()
    for path in dict.fromkeys(paths):
        root = next((r for r in present if is_within(path, r)), None)
        if root is None:
            continue
        for candidate in _candidates(path, root, stored):
            if candidate not in seen:
                seen.add(candidate)
                _plan_file(plan, candidate, stored.get(candidate), settled.get(candidate))
    return plan


def _candidates(path: str, root: str, stored: Mapping[str, DocumentInfo]) -> list[str]:
    """A changed path's files: itself, or what a folder holds now and what the library holds under it."""
    if os.path.isdir(path):
        return files_under(path, root) + sorted(p for p in stored if is_within(p, path) and p != path)
    gone_folder = [p for p in stored if is_within(p, path) and p != path]  # a folder deleted or moved away
    return ([path] if wanted(path, root) or path in stored else []) + sorted(gone_folder)


def _plan_file(plan: ChangePlan, path: str, doc: DocumentInfo | None, settled: Signature | None) -> None:
    signature = signature_of(path)
    if signature is None:
        if doc is not None and not os.path.lexists(path):
            plan.remove.append(doc)
        return
    if signature == settled or (doc is not None and (doc.size, doc.mtime) == signature):
        plan.unchanged += 1  # stored as it is now (indexed, or failed: reported once already)
        return
    plan.index.append(path)
