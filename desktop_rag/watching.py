"""Watched folders kept up to date while the application runs. Plain Python over ``watchdog``; no Qt.

:class:`WatchService` holds the state both fronts share: the watched folders and whether each is
there, the ``watchdog`` observer whose thread feeds a :class:`~desktop_rag.core.ingest.watch_plan.Coalescer`,
the files handed to ingestion and what became of them. Its owner polls it (the window on a timer,
``desktop-rag watch run`` in :func:`watch_loop`):

1. :meth:`WatchService.check_folders` watches the folders that are there, and says which appeared
   (each is then scanned: at start-up, when added, when a drive comes back) and which went away
   (reported; their documents are kept, and nothing under them is acted on until they return);
2. :meth:`WatchService.due` gives the paths whose events have settled;
3. :func:`plan_paths` (on any thread) turns those paths into files to index and documents to remove;
4. the owner removes, then indexes (the window through its ingestion queue), telling the service
   :meth:`~WatchService.handed_over` and :meth:`~WatchService.finished`, so a file that fails is not
   offered again until it changes.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Generator, Mapping, Sequence

from desktop_rag.core.filenames import display_path
from desktop_rag.core.ingest.watch_plan import (DEFAULT_QUIET_S, ChangePlan, Coalescer, Signature, plan_changes,
                                                signature_of)
from desktop_rag.core.store.library import Store
from desktop_rag.core.store.watched import WatchedFolder, is_within
from desktop_rag.core.types import DocumentInfo, IngestProgress, Stage
from desktop_rag.folder_collections import folder_name, join_collections
from desktop_rag.services import Services

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often the owner asks for settled events (and whether the folders are there)
FOLDER_CHECK_S = 3.0  # how often a folder's presence is checked (a drive unplugged or back)
SETTLED = frozenset({Stage.INDEXED, Stage.SKIPPED, Stage.FAILED})
MISSING = "not found: is its drive connected? Watching resumes when it is back; its documents are kept"
TOO_MANY = ("cannot be watched: the system's limit of watched folders is reached (raise "
            "fs.inotify.max_user_watches); changes are picked up at the next start")
SHORT = {MISSING: "not found", TOO_MANY: "cannot be watched"}  # the list's words; the whole reason in its tooltip


class FolderStatus(StrEnum):
    IDLE = "idle"
    SCANNING = "scanning"
    INDEXING = "indexing"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FolderState:
    """A watched folder and what it is doing, as the window lists it."""

    path: str
    status: FolderStatus
    pending: int = 0  # its files waiting to be indexed or being indexed
    detail: str = ""

    def describe(self) -> str:
        """A few words for the list: "idle", "scanning", "indexing 3 files", "error: not found"."""
        if self.status == FolderStatus.INDEXING:
            return f"indexing {self.pending} file{'s' if self.pending != 1 else ''}"
        if self.status in (FolderStatus.MISSING, FolderStatus.ERROR):
            return f"error: {SHORT.get(self.detail, self.detail.split(' (')[0])}"
        return self.status.value

    def explain(self) -> str:
        """The whole story, for a tooltip or a log line."""
        return f"error: {self.detail}" if self.detail else self.describe()


@dataclass(slots=True)
class FolderChanges:
    """What :meth:`WatchService.check_folders` found: folders to scan now, folders gone, errors."""

    appeared: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _observer() -> Any:
    from watchdog.observers import Observer  # imported when watching starts, not with the CLI

    return Observer()


class _Handler:
    """The watchdog handler: every path an event names goes to ``note`` (on the observer's thread).
    Only changes count: opening or reading a file (ingestion does) is no event here."""

    CHANGES = frozenset({"created", "modified", "moved", "deleted", "closed"})

    def __init__(self, note: Callable[[str], None]) -> None:
        self.note = note

    def dispatch(self, event: Any) -> None:
        if event.event_type not in self.CHANGES or (event.is_directory and event.event_type == "modified"):
            return
        for raw in (event.src_path, event.dest_path):
            if raw:
                self.note(os.fsdecode(raw))


class WatchService:
    """The watched folders of one library and what is happening in them (see the module docstring).
    Every method is called from the owner's thread, but ``note`` (the observer's)."""

    def __init__(self, quiet_s: float = DEFAULT_QUIET_S, *, observer_factory: Callable[[], Any] = _observer,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.coalescer = Coalescer(quiet_s)
        self._make_observer, self._clock = observer_factory, clock
        self._observer: Any = None
        self._watches: dict[str, Any] = {}  # folder -> its watchdog watch (None: not watched now)
        self._missing: set[str] = set()
        self._errors: dict[str, str] = {}
        self._scanning: set[str] = set()
        self._handed: dict[str, Signature | None] = {}  # files with ingestion now, as they were then
        self.settled: dict[str, Signature] = {}  # files ingestion finished with, as they were then
        self._last_check = float("-inf")

    @property
    def folders(self) -> list[str]:
        return list(self._watches)

    def note(self, path: str) -> None:
        self.coalescer.note(path, self._clock())

    def set_folders(self, folders: Sequence[str]) -> None:
        """Watch exactly these folders; new ones are watched (and scanned) at the next check."""
        for gone in [f for f in self._watches if f not in folders]:
            self._unwatch(gone)
            del self._watches[gone]
            self._missing.discard(gone)
            self._errors.pop(gone, None)
            self.coalescer.forget_under(gone)
        for folder in folders:
            self._watches.setdefault(folder, None)
        self._last_check = float("-inf")

    def check_folders(self, *, force: bool = False) -> FolderChanges:
        """Watch the folders that are there and are not watched yet; notice those that went away.
        Looks at the disk every FOLDER_CHECK_S at most (``force``: now)."""
        changes = FolderChanges()
        now = self._clock()
        if not force and now - self._last_check < FOLDER_CHECK_S:
            return changes
        self._last_check = now
        for folder, watch in list(self._watches.items()):
            there = os.path.isdir(folder)
            if not there and folder not in self._missing:
                self._lose(folder)
                changes.gone.append(folder)
            elif there and watch is None and folder not in self._errors:
                self._missing.discard(folder)
                if self._watch(folder, changes):
                    changes.appeared.append(folder)
        return changes

    def _lose(self, folder: str) -> None:
        self._missing.add(folder)
        self._unwatch(folder)
        self.coalescer.forget_under(folder)
        log.warning("watched folder %s is gone; its documents are kept", display_path(folder))

    def _watch(self, folder: str, changes: FolderChanges) -> bool:
        if self._observer is None:
            self._observer = self._make_observer()
            self._observer.start()
        try:
            self._watches[folder] = self._observer.schedule(_Handler(self.note), folder, recursive=True)
        except OSError as exc:
            reason = TOO_MANY if exc.errno == errno.ENOSPC else f"cannot be watched ({exc.strerror or exc})"
            self._errors[folder] = changes.failed[folder] = reason
            log.warning("%s %s", display_path(folder), reason)
            return False
        return True

    def _unwatch(self, folder: str) -> None:
        watch = self._watches.get(folder)
        self._watches[folder] = None
        if watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(watch)
            except (KeyError, OSError):  # its folder is gone and the watch with it
                pass

    def due(self) -> list[str]:
        """Paths whose events have settled, in watched folders that are there."""
        available = self.available()
        return [p for p in self.coalescer.due(self._clock()) if any(is_within(p, f) for f in available)]

    def available(self) -> list[str]:
        return [f for f in self._watches if f not in self._missing]

    def scanning(self, folders: Sequence[str], on: bool) -> None:
        (self._scanning.update if on else self._scanning.difference_update)(folders)

    def handed_over(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._handed[path] = signature_of(path)

    def finished(self, path: str, stage: Stage) -> bool:
        """Ingestion is done with ``path`` (any file: those not handed over by the service are ignored);
        True if it was one of the service's."""
        if path not in self._handed or stage not in SETTLED | {Stage.CANCELLED}:
            return False
        signature = self._handed.pop(path)
        if stage != Stage.CANCELLED and signature is not None:
            self.settled[path] = signature
        return True

    def states(self) -> list[FolderState]:
        out = []
        for folder in self._watches:
            pending = sum(1 for p in self._handed if is_within(p, folder))
            if folder in self._missing:
                out.append(FolderState(folder, FolderStatus.MISSING, pending, MISSING))
            elif folder in self._errors:
                out.append(FolderState(folder, FolderStatus.ERROR, pending, self._errors[folder]))
            elif pending:
                out.append(FolderState(folder, FolderStatus.INDEXING, pending))
            else:
                idle = FolderStatus.SCANNING if folder in self._scanning else FolderStatus.IDLE
                out.append(FolderState(folder, idle))
        return out

    def close(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        self._watches = dict.fromkeys(self._watches)


def stored_by_path(store: Store) -> dict[str, DocumentInfo]:
    return {d.path: d for d in store.documents()}


def plan_paths(data_path: Path, paths: Sequence[str], roots: Sequence[str], settled: Mapping[str, Signature],
               should_stop: Callable[[], bool]) -> Generator[str, None, ChangePlan]:
    """A job (see :mod:`desktop_rag.jobs`): the plan for changed ``paths`` (or folders to scan),
    read with a connection of its own, so it may run off the owner's thread."""
    yield "checking"
    with Store(data_path) as store:
        return plan_changes(paths, roots, stored_by_path(store), dict(settled))


@dataclass(frozen=True, slots=True)
class WatchNote:
    """What :func:`watch_loop` reports besides ingestion's own progress."""

    kind: str  # "watching", "gone", "error", "removed"
    path: str
    message: str = ""


def watch_loop(services: Services, service: WatchService, should_stop: Callable[[], bool], *,
               poll_s: float = POLL_S, sleep: Callable[[float], None] = time.sleep,
               ) -> Generator[WatchNote | IngestProgress, None, None]:
    """Keep the library's watched folders indexed until ``should_stop()`` (``desktop-rag watch run``):
    each folder is scanned when it is first seen, then its changes are acted on as they settle.
    Folders added or removed by another process are picked up at the next folder check."""
    store = services.store
    while not should_stop():
        folders = [f.path for f in store.watched.all()]
        if folders != service.folders:
            service.set_folders(folders)
        changes = service.check_folders()
        yield from _notes(changes)
        paths = changes.appeared + service.due()
        if paths:
            plan = plan_changes(paths, service.available(), stored_by_path(store), service.settled)
            yield from apply_plan(services, service, plan, should_stop)
        sleep(poll_s)


def _notes(changes: FolderChanges) -> Generator[WatchNote, None, None]:
    for folder in changes.appeared:
        yield WatchNote("watching", folder)
    for folder in changes.gone:
        yield WatchNote("gone", folder, MISSING)
    for folder, reason in changes.failed.items():
        yield WatchNote("error", folder, reason)


def apply_plan(services: Services, service: WatchService, plan: ChangePlan, should_stop: Callable[[], bool],
               ) -> Generator[WatchNote | IngestProgress, None, None]:
    """Remove the documents whose files are gone, then index the new and changed files (in that order:
    a file moved is found at its new path once its old copy is gone, and indexed there). New files
    join their folder's collection if it exists (one the user deleted is not made again)."""
    store = services.store
    for doc in plan.remove:
        store.remove_document(doc.id)
        yield WatchNote("removed", doc.path)
    if not plan.index:
        return
    service.handed_over(plan.index)
    events = join_collections(store, services.ingestion(should_stop).run(plan.index),
                              folder_joins(store, plan.index, service.folders))
    for event in events:
        if event.is_final:
            service.finished(event.path, event.stage)
        yield event


def folder_joins(store: Store, paths: Sequence[str], folders: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """{file: (its watched folder's collection,)} for the files whose folder has a collection now."""
    names = {f: folder_name(Path(f)) for f in folders}
    existing = {f: name for f, name in names.items() if store.collections.named(name) is not None}
    joins: dict[str, tuple[str, ...]] = {}
    for path in paths:
        folder = next((f for f in existing if is_within(path, f)), None)
        if folder is not None:
            joins[path] = (existing[folder],)
    return joins


def watch_folder(store: Store, raw: str | os.PathLike[str]) -> tuple[WatchedFolder, list[str]]:
    """Watch a folder (see :meth:`WatchedFolders.add`) and make its collection, which the files
    indexed from it join (:func:`join_folder_collections`)."""
    added = store.watched.add(raw)
    store.collections.ensure(folder_name(Path(added[0].path)))
    return added


def join_folder_collections(store: Store, paths: Sequence[str], folders: Sequence[str]) -> int:
    """Put the documents of ``paths`` in their watched folder's collection, if it exists; returns how
    many joined."""
    joined = 0
    for path, (name,) in folder_joins(store, paths, folders).items():
        doc, collection = store.document_by_path(path), store.collections.named(name)
        if doc is not None and collection is not None:
            joined += store.collections.add(collection.id, [doc.id])
    return joined
