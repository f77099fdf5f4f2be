"""The window's link to the core: model loading, the ingestion queue, questions, page previews.

Every long operation is a core generator run by a :class:`~desktop_rag.ui.workers.GeneratorWorker`.
Each job opens its own :class:`~desktop_rag.services.Services` (so its own SQLite connection)
and shares the loaded models from :class:`~desktop_rag.ui.shared_models.SharedModels`. The GUI
thread keeps one read-only-in-practice :class:`Store` for listing documents and counting, and
questions share one more (:class:`QuestionStore`) so the search index stays loaded between them.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Sequence

from PySide6.QtCore import QObject, Signal

from desktop_rag.config import Settings
from desktop_rag.core.ingest.pipeline import discover_pdfs
from desktop_rag.core.ingest.render import render_page
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Answer, AnswerEvent, Citation, DocumentInfo, IngestProgress, IngestReport, Stage
from desktop_rag.services import Services
from desktop_rag.ui.notifications import Action, NotificationManager, Severity
from desktop_rag.ui.shared_models import SharedModels
from desktop_rag.ui.workers import GeneratorWorker, WorkerPool

log = logging.getLogger(__name__)

EMBEDDER, LLM = "embedder", "llm"
LOADING, READY, FAILED = "loading", "ready", "failed"
CANCELLED_BEFORE_START = "not indexed: cancelled before it started"


class QuestionStore:
    """A store kept open across questions, so its FAISS cache and word statistics are read once,
    not for every question (at 100,000 chunks: a 150 MB file, then a map of every chunk). It
    notices commits by ingestion through SQLite's data_version, as any store does.

    Questions take turns. Retiring it (the data folder changed, the window closes) closes it at
    once, or when the question using it ends; a question that starts later opens its own store.
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


def _load_models_job(models: SharedModels, which: Sequence[str], should_stop: Callable[[], bool]) -> Generator:
    """Yields (model, state, detail); a failure is yielded with its exception, not raised."""
    for name in which:
        if should_stop():
            return
        model = models.embedder if name == EMBEDDER else models.chat_model
        yield name, LOADING, ""
        started = time.perf_counter()
        try:
            model.load()
        except Exception as exc:  # noqa: BLE001 - yielded, and reported by the engine
            yield name, FAILED, exc
            continue
        if name == EMBEDDER:
            # Importing an extension module holds the GIL (faiss: about 0.2 s); do it now, while
            # models load anyway, rather than as the first document is indexed.
            import faiss  # noqa: F401
        label = model.model_id if name == EMBEDDER else model.name
        yield name, READY, f"{label} ({time.perf_counter() - started:.1f} s)"
    if LLM in which:
        from desktop_rag.core.models.llama_cpp import gpu_offload_supported

        yield "gpu", READY, gpu_offload_supported()


def _ingest_job(settings: Settings, models: SharedModels, paths: Sequence[str], replace: bool,
                should_cancel: Callable[[], bool]) -> Generator[IngestProgress, None, IngestReport]:
    with Services(settings, embedder=models.embedder) as services:
        if replace:  # re-index: forget the stored copy first, or ingestion skips unchanged files
            for path in paths:
                doc = services.store.document_by_path(path)
                if doc is not None:
                    services.store.remove_document(doc.id)
        return (yield from services.ingestion(should_cancel).run(list(paths)))


def _ask_job(settings: Settings, models: SharedModels, questions: QuestionStore, question: str,
             should_stop: Callable[[], bool]) -> Generator[AnswerEvent, None, Answer]:
    with questions.use() as store, \
            Services(settings, embedder=models.embedder, chat_model=models.chat_model, store=store) as services:
        return (yield from services.answerer().ask(question, should_stop))


def _remove_job(settings: Settings, doc_ids: Sequence[int], should_stop: Callable[[], bool]) -> Generator:
    with Store(settings.data_path) as store:
        for doc_id in doc_ids:
            store.remove_document(doc_id)
            yield doc_id
    return list(doc_ids)


def _render_job(settings: Settings, citation: Citation, dpi: float, should_stop: Callable[[], bool]) -> Generator:
    page_text = None
    with Store(settings.data_path) as store:
        row = store.chunk_rows([citation.chunk_id]).get(citation.chunk_id)
        if row is not None:
            page_text = store.page_text(row["doc_id"], citation.page)
    end = citation.end_offset if citation.page_end == citation.page else len(page_text or "") or citation.end_offset
    yield "rendering"
    return render_page(citation.path, citation.page, dpi=dpi, highlight=(citation.start_offset, end),
                       page_text=page_text)


class Engine(QObject):
    model_state_changed = Signal(str, str, str)  # model (embedder|llm), state, detail
    ingest_queued = Signal(list)  # file paths about to be indexed
    ingest_progressed = Signal(object)  # IngestProgress
    ingest_finished = Signal(object)  # IngestReport (after cancellation too)
    ingest_dropped = Signal(list, str, str)  # paths that will not be indexed now, status, reason
    library_changed = Signal()
    data_dir_changed = Signal()

    def __init__(self, settings: Settings, notifications: NotificationManager, models: SharedModels | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications
        self.models = models or SharedModels(settings)
        self.pool = WorkerPool(notifications.report_exception, parent=self)
        self.store = Store(settings.data_path)
        self.questions = QuestionStore(settings.data_path)
        self.model_states: dict[str, tuple[str, str]] = {EMBEDDER: ("not loaded", ""), LLM: ("not loaded", "")}
        self.gpu_offload_available: bool | None = None
        self.settings_action: Action | None = None  # set by the window: "Settings..." next to model errors
        self._pending: list[str] = []
        self._replace_pending: set[str] = set()
        self._in_flight: list[str] = []
        self._finished_paths: set[str] = set()
        self._ingest_worker: GeneratorWorker | None = None
        self._shutting_down = False

    # ------------------------------------------------------------------ models

    def load_models(self, which: Sequence[str] = (EMBEDDER, LLM)) -> GeneratorWorker:
        # Not lowered in priority: the user is waiting for the models. (A reused pool thread that
        # ran background work before stays lowered; that only slows a reload after Settings.)
        worker = GeneratorWorker(partial(_load_models_job, self.models, tuple(which)), "Loading models",
                                 background=False)
        worker.yielded.connect(self._on_load_worker_yielded)
        return self.pool.start(worker)

    def _on_load_worker_yielded(self, event: tuple[str, str, Any]) -> None:
        name, state, detail = event
        if name == "gpu":
            self.gpu_offload_available = bool(detail)
            return
        if state == FAILED:
            what = "the embedding model" if name == EMBEDDER else "the language model"
            actions = (self.settings_action,) if self.settings_action else ()
            self.notifications.report_exception(detail, f"Cannot load {what}", actions=actions)
            detail = str(detail)
        self.model_states[name] = (state, detail)
        self.model_state_changed.emit(name, state, detail)

    # ------------------------------------------------------------------ ingestion

    @property
    def ingesting(self) -> bool:
        return self._ingest_worker is not None

    @property
    def unfinished_paths(self) -> list[str]:
        """Queued or in-flight files not yet done: what a restart should offer to resume."""
        return [p for p in self._in_flight if p not in self._finished_paths] + list(self._pending)

    def add_paths(self, paths: Sequence[str | Path], *, replace: bool = False) -> list[str]:
        """Queue PDFs (folders are searched); returns the files queued. ``replace`` re-indexes."""
        files = [str(p) for p in discover_pdfs(paths)]
        busy = set(self._pending) | {p for p in self._in_flight if p not in self._finished_paths}
        new = [f for f in files if f not in busy]
        if replace:
            self._replace_pending.update(new)
        if new:
            self._pending.extend(new)
            self.ingest_queued.emit(new)
            self._start_next_batch()
        return new

    def _start_next_batch(self) -> None:
        if self._ingest_worker is not None or not self._pending or self._shutting_down:
            return
        replace = [p for p in self._pending if p in self._replace_pending]
        batch = replace or [p for p in self._pending if p not in self._replace_pending]
        self._pending = [p for p in self._pending if p not in batch]
        self._replace_pending.difference_update(batch)
        self._in_flight, self._finished_paths = batch, set()
        label = f"Indexing {len(batch)} file{'s' if len(batch) != 1 else ''}"
        worker = GeneratorWorker(partial(_ingest_job, self.settings, self.models, batch, bool(replace)), label)
        worker.yielded.connect(self._on_ingest_worker_yielded)
        worker.returned.connect(self._on_ingest_worker_returned)
        worker.errored.connect(self._on_ingest_worker_errored)
        worker.finished.connect(self._on_ingest_worker_finished)
        self._ingest_worker = worker
        self.pool.start(worker)

    def _on_ingest_worker_yielded(self, event: IngestProgress) -> None:
        if event.is_final and event.stage != Stage.CANCELLED:  # a cancelled file is still to do
            self._finished_paths.add(event.path)
            if event.stage in (Stage.INDEXED, Stage.FAILED):
                self.library_changed.emit()
        self.ingest_progressed.emit(event)

    def _on_ingest_worker_returned(self, report: IngestReport) -> None:
        not_started = [p for p in self._in_flight if p not in self._finished_paths]
        if report.cancelled and not_started and not self._shutting_down:
            self.ingest_dropped.emit(not_started, "cancelled", CANCELLED_BEFORE_START)
        if report.failed:
            lines = [o.message for o in report.failed]
            more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
            files = f"{len(lines)} file{'s' if len(lines) > 1 else ''}"
            self.notifications.notify(f"{files} could not be indexed: " + "; ".join(lines[:3]) + more,
                                      Severity.WARNING)
        self.ingest_finished.emit(report)

    def _on_ingest_worker_errored(self, exc: BaseException) -> None:
        unfinished = [p for p in self._in_flight if p not in self._finished_paths]
        self._finished_paths.update(unfinished)
        self.ingest_dropped.emit(unfinished, "failed", f"indexing stopped: {exc}")

    def _on_ingest_worker_finished(self) -> None:
        self._ingest_worker = None
        if not self._shutting_down:  # at exit, unfinished files are kept for the next start
            self._in_flight = []
        self.library_changed.emit()
        self._start_next_batch()

    def cancel_ingestion(self) -> None:
        """Stop after the current step; files not started are dropped from the queue."""
        dropped, self._pending = self._pending, []
        self._replace_pending.clear()
        if self._ingest_worker is not None:
            self._ingest_worker.quit()
        if dropped:
            self.ingest_dropped.emit(dropped, "cancelled", CANCELLED_BEFORE_START)

    # ------------------------------------------------------------------ library

    def stats(self) -> dict[str, int]:
        return self.store.stats()

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def remove_documents(self, doc_ids: Sequence[int]) -> GeneratorWorker:
        worker = GeneratorWorker(partial(_remove_job, self.settings, list(doc_ids)), "Removing documents")
        worker.finished.connect(self.library_changed)
        return self.pool.start(worker)

    # ------------------------------------------------------------------ questions and pages

    def ask(self, question: str) -> GeneratorWorker:
        """A worker that answers; connect to its signals, then :meth:`start` it (a fast job could
        otherwise finish before anyone listens)."""
        return GeneratorWorker(partial(_ask_job, self.settings, self.models, self.questions, question), "Answering")

    def render_page(self, citation: Citation, dpi: float = 120.0) -> GeneratorWorker:
        """A worker that renders the citation's page; connect, then :meth:`start` it."""
        return GeneratorWorker(partial(_render_job, self.settings, citation, dpi), "Rendering page")

    def start(self, worker: GeneratorWorker) -> GeneratorWorker:
        return self.pool.start(worker)

    # ------------------------------------------------------------------ settings and shutdown

    def apply_settings(self, settings: Settings) -> None:
        old, self.settings = self.settings, settings
        new_embedder, new_llm = self.models.update(settings)
        if old.data_path != settings.data_path:
            previous, self.store = self.store, Store(settings.data_path)
            previous.close()
            retired, self.questions = self.questions, QuestionStore(settings.data_path)
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
        self._shutting_down = True
        self.pool.quit_all()

    def close(self) -> None:
        """Release models and the store once every worker has finished."""
        self.pool.wait_for_done(30_000)
        self.models.close()
        self.questions.retire()
        self.store.close()
