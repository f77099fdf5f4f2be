"""Keeps the watched folders indexed while the window is open: the Qt side of
:class:`~desktop_rag.watching.WatchService`.

A timer polls the service. Folders that appear (at start-up, when added, when a drive is back) are
scanned and settled changes planned, on a worker (:func:`~desktop_rag.watching.plan_paths`); the
documents of deleted files are removed, then the new and changed files go to the engine's
ingestion queue like any others (so indexing pauses while a question is answered). When a batch
ends and the queue is idle, the files it was given are planned again: a file saved while it was being indexed is indexed
again, one deleted meanwhile is removed, and one that failed is left alone until it changes.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

from PySide6.QtCore import QObject, QTimer

from desktop_rag import jobs
from desktop_rag.core.filenames import display_path
from desktop_rag.core.ingest.watch_plan import ChangePlan
from desktop_rag.core.store.watched import WatchedFolder
from desktop_rag.core.types import IngestProgress
from desktop_rag.ui.engine import Engine
from desktop_rag.ui.notifications import Severity
from desktop_rag.ui.watch_list import WatchedFoldersView
from desktop_rag.watching import MISSING, POLL_S, WatchService, join_folder_collections, plan_paths, watch_folder


class WatchController(QObject):
    def __init__(self, engine: Engine, view: WatchedFoldersView, parent: QObject | None = None, *,
                 service: WatchService | None = None) -> None:
        super().__init__(parent)
        self.engine, self.view = engine, view
        self.service = service or WatchService()
        self._planning = False
        self._recheck: set[str] = set()  # files to plan again when the running batch ends
        self._joining: set[str] = set()  # files indexed from watched folders, to join their collections
        self.timer = QTimer(self)
        self.timer.setInterval(int(POLL_S * 1000))
        self.timer.timeout.connect(self._on_timer_timeout)
        view.watch_requested.connect(self.watch)
        view.unwatch_requested.connect(self.unwatch)
        engine.ingest_progressed.connect(self._on_engine_ingest_progressed)
        engine.ingest_finished.connect(self._on_engine_ingest_finished)
        engine.data_dir_changed.connect(self.load_folders)
        self.load_folders()
        self.timer.start()

    def load_folders(self) -> None:
        """Watch the folders the library lists (at start, and when it is another library)."""
        self.service.set_folders([] if self.engine.store.read_only else
                                 [f.path for f in self.engine.store.watched.all()])
        self._show_states()

    def close(self) -> None:
        self.timer.stop()
        self.service.close()

    # ------------------------------------------------------------------ requests from the view

    def watch(self, folder: str) -> None:
        self.engine.change_collections(partial(watch_folder, raw=folder), "Watching a folder",
                                       returned=self._on_watch_worker_returned)

    def _on_watch_worker_returned(self, result: tuple[WatchedFolder, list[str]]) -> None:
        folder, replaced = result
        inside = f" (it replaces {len(replaced)} watched folder{'s' if len(replaced) > 1 else ''} inside it)"
        self.engine.notifications.notify(f"Watching {display_path(folder.path)}: its documents are indexed now, "
                                         "and kept up to date" + (inside if replaced else ""), Severity.INFO)
        self.load_folders()

    def unwatch(self, folder: str) -> None:
        self.engine.change_collections(lambda store: store.watched.remove(folder), "Stop watching a folder",
                                       returned=self._on_unwatch_worker_returned)

    def _on_unwatch_worker_returned(self, removed: WatchedFolder) -> None:
        self.engine.notifications.notify(f"Stopped watching {display_path(removed.path)}; its documents stay "
                                         "in the library", Severity.INFO)
        self.load_folders()

    # ------------------------------------------------------------------ polling

    def _on_timer_timeout(self) -> None:
        if self.engine.queue.closed:  # the window is closing: start nothing more
            self.close()
            return
        if self._planning:  # one plan at a time; events keep gathering meanwhile
            return
        changes = self.service.check_folders()
        for folder in changes.gone:
            self.engine.notifications.notify(f"The watched folder {display_path(folder)} is {MISSING}.",
                                             Severity.WARNING)
        for folder, reason in changes.failed.items():
            self.engine.notifications.notify(f"The folder {display_path(folder)} {reason}.", Severity.WARNING)
        recheck: list[str] = []
        if self._recheck and not self.engine.ingesting:  # the queue is idle: what it was given, again
            recheck, self._recheck = sorted(self._recheck), set()
        self._plan(changes.appeared, [*self.service.due(), *recheck])
        self._show_states()

    def _plan(self, folders: Sequence[str], paths: Sequence[str]) -> None:
        if not folders and not paths:
            return
        self._planning = True
        self.service.scanning(folders, True)
        job = partial(plan_paths, self.engine.settings.data_path, [*folders, *paths], self.service.available(),
                      dict(self.service.settled))
        self.engine.pool.start(job, "Checking watched folders", returned=self._on_plan_worker_returned,
                               finished=partial(self._on_plan_worker_finished, list(folders)))

    def _on_plan_worker_finished(self, folders: list[str]) -> None:
        self._planning = False
        self.service.scanning(folders, False)
        self._show_states()

    def _on_plan_worker_returned(self, plan: ChangePlan) -> None:
        if not plan.remove:
            self._index(plan.index)
            return
        removed = [d.id for d in plan.remove]
        self.engine.pool.start(partial(jobs.remove_documents, self.engine.settings.data_path, removed),
                               "Removing documents of deleted files",
                               finished=partial(self._on_remove_worker_finished, plan.index))

    def _on_remove_worker_finished(self, paths: list[str]) -> None:
        self.engine.library_changed.emit()
        self._index(paths)

    def _index(self, paths: Sequence[str]) -> None:
        if not paths or self.engine.store.read_only:
            return
        queued = self.engine.add_paths(paths)
        self.service.handed_over(queued)
        self._recheck.update(set(paths) - set(queued))  # being indexed now: looked at again when it ends
        self._show_states()

    # ------------------------------------------------------------------ ingestion

    def _on_engine_ingest_progressed(self, event: IngestProgress) -> None:
        if event.is_final and self.service.finished(event.path, event.stage):
            self._recheck.add(event.path)
            self._joining.add(event.path)
            self._show_states()

    def _on_engine_ingest_finished(self, *args: object) -> None:
        joining, self._joining = sorted(self._joining), set()
        if joining:
            folders = self.service.folders
            self.engine.change_collections(lambda store: join_folder_collections(store, joining, folders),
                                           "Adding to folder collections")

    def _show_states(self) -> None:
        states = self.service.states()
        if states != self.view.states:
            self.view.show_states(states)
