"""The window's link to the core: model loading, the ingestion queue, questions, page previews.

Every long operation is a job of :mod:`desktop_rag.jobs` started on the engine's
:class:`~desktop_rag.ui.workers.WorkerPool`; the state behind them is plain Python
(:class:`~desktop_rag.model_cache.ModelCache`, :class:`~desktop_rag.ingest_queue.IngestQueue`,
:class:`~desktop_rag.shared_store.SharedStore`). The GUI thread keeps one read-only-in-practice
:class:`Store` for listing documents, counting and reading a cited page's text; questions share
another (the :class:`SharedStore`) so the search index stays loaded between them.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from desktop_rag import jobs
from desktop_rag.config import Settings
from desktop_rag.core.ingest.pipeline import discover_documents
from desktop_rag.core.search.scope import EVERYTHING, Scope
from desktop_rag.core.store.collections import CollectionInfo
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import UNKNOWN_DOC_ID, Citation, DocumentInfo, IngestProgress, IngestReport, Stage, WordBox
from desktop_rag.folder_collections import collection_plan
from desktop_rag.ingest_queue import IngestQueue
from desktop_rag.model_cache import EMBEDDER, LLM, ModelCache, ModelEvent, ModelState
from desktop_rag.shared_store import SharedStore
from desktop_rag.ui.notifications import Action, NotificationManager, Severity
from desktop_rag.ui.workers import GeneratorWorker, WorkerPool

log = logging.getLogger(__name__)

CANCELLED_BEFORE_START = "not indexed: cancelled before it started"
Slot = Callable[..., Any]


class Engine(QObject):
    model_state_changed = Signal(str, str, str)  # model (embedder|llm), ModelState value, detail
    ingest_queued = Signal(object)  # file paths about to be indexed (a list; object keeps names that are not UTF-8)
    ingest_progressed = Signal(object)  # IngestProgress
    ingest_finished = Signal(object)  # IngestReport (after cancellation too)
    ingest_dropped = Signal(object, object, str)  # paths that will not be indexed now, their Stage, why
    library_changed = Signal()
    data_dir_changed = Signal()

    def __init__(self, settings: Settings, notifications: NotificationManager, models: ModelCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications
        self.models = models or ModelCache(settings)
        self.pool = WorkerPool(notifications.report_exception, parent=self)
        self.store = Store(settings.data_path)
        self.shared_store = SharedStore(settings.data_path)
        self.model_states: dict[str, tuple[ModelState, str]] = {EMBEDDER: (ModelState.NOT_LOADED, ""),
                                                                LLM: (ModelState.NOT_LOADED, "")}
        self.settings_action: Action | None = None  # set by the window: "Settings..." next to model errors
        self.queue = IngestQueue()
        self._joins: dict[str, tuple[str, ...]] = {}  # queued file -> the collections it joins once indexed
        self._ingest_worker: GeneratorWorker | None = None

    # ------------------------------------------------------------------ models

    @property
    def gpu_offload_available(self) -> bool | None:
        return self.models.gpu_offload_available

    def load_models(self, which: Sequence[str] = (EMBEDDER, LLM)) -> GeneratorWorker:
        # Not lowered in priority: the user is waiting for the models. (A reused pool thread that
        # ran background work before stays lowered; that only slows a reload after Settings.)
        return self.pool.start(partial(self.models.load, tuple(which)), "Loading models", background=False,
                               yielded=self._on_load_worker_yielded)

    def _on_load_worker_yielded(self, event: ModelEvent) -> None:
        if event.state == ModelState.FAILED and event.error is not None:
            what = "the embedding model" if event.model == EMBEDDER else "the language model"
            actions = (self.settings_action,) if self.settings_action else ()
            self.notifications.report_exception(event.error, f"Cannot load {what}", actions=actions)
        self.model_states[event.model] = (event.state, event.detail)
        self.model_state_changed.emit(event.model, event.state.value, event.detail)

    # ------------------------------------------------------------------ ingestion

    @property
    def ingesting(self) -> bool:
        return self.queue.running

    @property
    def unfinished_paths(self) -> list[str]:
        """Queued or in-flight files not yet done: what a restart should offer to resume."""
        return self.queue.unfinished

    def add_paths(self, paths: Sequence[str | Path], *, replace: bool = False,
                  collect_folders: bool = False) -> list[str]:
        """Queue PDFs (folders are searched); returns the files queued. ``replace`` re-indexes;
        ``collect_folders``: each folder's files join a collection named after it."""
        if collect_folders:
            for path, names in collection_plan(paths).items():
                self._joins[path] = tuple(dict.fromkeys((*self._joins.get(path, ()), *names)))
        new = self.queue.add([str(p) for p in discover_documents(paths)], replace=replace)
        if new:
            self.ingest_queued.emit(new)
            self._start_next_batch()
        return new

    def _start_next_batch(self) -> None:
        batch = self.queue.next_batch()
        if batch is None:
            return
        n = len(batch.paths)
        plan = {p: self._joins.pop(p) for p in batch.paths if p in self._joins}
        self._ingest_worker = self.pool.start(
            partial(jobs.ingest, self.settings, self.models, batch, plan), f"Indexing {n} file{'s' if n != 1 else ''}",
            yielded=self._on_ingest_worker_yielded, returned=self._on_ingest_worker_returned,
            aborted=self._on_ingest_worker_aborted, errored=self._on_ingest_worker_errored,
            finished=self._on_ingest_worker_finished)

    def _on_ingest_worker_yielded(self, event: IngestProgress) -> None:
        if self.queue.record(event) and event.stage in (Stage.INDEXED, Stage.FAILED):
            self.library_changed.emit()
        self.ingest_progressed.emit(event)

    def _on_ingest_worker_returned(self, report: IngestReport) -> None:
        not_started = self.queue.unfinished_in_batch()
        if report.cancelled and not_started and not self.queue.closed:
            self.ingest_dropped.emit(not_started, Stage.CANCELLED, CANCELLED_BEFORE_START)
        if report.failed:
            lines = [o.message for o in report.failed]
            more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
            files = f"{len(lines)} file{'s' if len(lines) > 1 else ''}"
            self.notifications.notify(f"{files} could not be indexed: " + "; ".join(lines[:3]) + more,
                                      Severity.WARNING)
        self.ingest_finished.emit(report)

    def _on_ingest_worker_aborted(self, report: IngestReport | None) -> None:
        # Stopped (Cancel, or the window closing): the files done so far are reported as usual.
        self._on_ingest_worker_returned(report if report is not None else IngestReport(cancelled=True))

    def _on_ingest_worker_errored(self, exc: BaseException) -> None:
        unfinished = self.queue.give_up_batch()
        self.ingest_dropped.emit(unfinished, Stage.FAILED, f"indexing stopped: {exc}")
        self.notifications.report_exception(exc, self._ingest_worker.name if self._ingest_worker else "")

    def _on_ingest_worker_finished(self) -> None:
        self._ingest_worker = None
        self.queue.end_batch()
        self.library_changed.emit()
        self._start_next_batch()

    def cancel_ingestion(self) -> None:
        """Stop after the current step; files not started are dropped from the queue."""
        dropped = self.queue.cancel()
        for path in dropped:
            self._joins.pop(path, None)
        if self._ingest_worker is not None:
            self._ingest_worker.quit()
        if dropped:
            self.ingest_dropped.emit(dropped, Stage.CANCELLED, CANCELLED_BEFORE_START)

    # ------------------------------------------------------------------ library

    def stats(self) -> dict[str, int]:
        return self.store.stats()

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def remove_documents(self, doc_ids: Sequence[int]) -> GeneratorWorker:
        return self.pool.start(partial(jobs.remove_documents, self.settings.data_path, list(doc_ids)),
                               "Removing documents", finished=self.library_changed.emit)

    def collections(self) -> list[CollectionInfo]:
        return self.store.collections.all()

    def change_collections(self, change: Callable[[Store], Any], what: str, **slots: Slot) -> GeneratorWorker:
        """Run ``change(store)`` (create, add, rename, delete, ...) on a worker; the library is shown
        again when it is done, and a refused change (a name taken meanwhile) is reported.
        ``slots`` as for :meth:`WorkerPool.start` (but ``finished``)."""
        return self.pool.start(partial(jobs.change_collections, self.settings.data_path, change), what,
                               background=False, finished=self.library_changed.emit, **slots)

    # ------------------------------------------------------------------ questions, pages, quality

    def ask(self, question: str, scope: Scope = EVERYTHING, **slots: Slot) -> GeneratorWorker:
        """Answer ``question`` from the documents ``scope`` holds; ``slots`` as for :meth:`WorkerPool.start`."""
        job = partial(jobs.answer, self.settings, self.models, self.shared_store, question, scope)
        return self.pool.start(job, "Answering", **slots)

    def render_page(self, citation: Citation, dpi: float = jobs.DEFAULT_RENDER_DPI, **slots: Slot) -> GeneratorWorker:
        """Render the citation's page with the passage highlighted; ``slots`` as for :meth:`WorkerPool.start`."""
        text, words = self._cited_page(citation)
        job = partial(jobs.render, citation, text, dpi, words=words)
        return self.pool.start(job, "Rendering page", **slots)

    def _cited_page(self, citation: Citation) -> tuple[str | None, tuple[WordBox, ...] | None]:
        """The stored text of the cited page, and its word boxes if it was read by OCR (indexed rows: quick
        enough for this thread)."""
        doc_id = citation.doc_id
        if doc_id == UNKNOWN_DOC_ID:  # a conversation saved by an earlier version: ask the chunk
            row = self.store.chunk_rows([citation.chunk_id]).get(citation.chunk_id)
            doc_id = row["doc_id"] if row is not None else UNKNOWN_DOC_ID
        if doc_id == UNKNOWN_DOC_ID:
            return None, None
        return self.store.page_text(doc_id, citation.page), self.store.page_words.of(doc_id, citation.page)

    def check_quality(self, **slots: Slot) -> GeneratorWorker:
        """Score retrieval on questions written from the library; returns (table, chart file)."""
        job = partial(jobs.check_quality, self.settings, self.models, jobs.SELF_CHECK_QUESTIONS)
        return self.pool.start(job, "Checking retrieval quality", **slots)

    # ------------------------------------------------------------------ settings and shutdown

    def apply_settings(self, settings: Settings) -> None:
        old, self.settings = self.settings, settings
        new_embedder, new_llm = self.models.update(settings)
        if old.data_path != settings.data_path:
            previous, self.store = self.store, Store(settings.data_path)
            previous.close()
            retired, self.shared_store = self.shared_store, SharedStore(settings.data_path)
            retired.retire()
            self.data_dir_changed.emit()
            self.library_changed.emit()
        reload = ([EMBEDDER] if new_embedder else []) + ([LLM] if new_llm else [])
        if reload:
            self.load_models(reload)

    @property
    def busy(self) -> bool:
        return bool(self.pool.running)

    def shutdown(self) -> None:
        """Ask every job to stop; the window closes when ``pool.all_finished`` fires."""
        self.queue.close()
        self.pool.quit_all()

    def close(self) -> None:
        """Release models and the store once every worker has finished."""
        self.pool.wait_for_done(30_000)
        self.models.close()
        self.shared_store.retire()
        self.store.close()
