"""Runs Library > Adapt search to my documents… and "Return to the original model" for the window.

One tuning at a time, and none while documents are being indexed (the library must hold still
while it is measured and re-embedded): either is refused with the reason. When the library's
model changed, the window's embedder is made anew and its shared store reopened (its vector cache
held the old vectors), so questions and passages are embedded by one model again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from desktop_rag.core.tune.state import read_tuned
from desktop_rag.errors import Cancelled
from desktop_rag.model_cache import EMBEDDER
from desktop_rag.shared_store import SharedStore
from desktop_rag.tune_service import TuneRequest, describe_tuned, format_result, revert_job, tune_job
from desktop_rag.ui.notifications import Action, Severity
from desktop_rag.ui.tune_dialog import EmbeddingsBox, TuneDialog
from desktop_rag.ui.workers import GeneratorWorker

MIN_CHUNKS = 200
BUSY_INDEXING = "Documents are being indexed: adapt search when indexing has finished."
BUSY_TUNING = "Search is already being adapted to this library (or returned to its original model)."


class TuneController(QObject):
    """Adds its action to ``menu`` and drives the dialog and the background job."""

    def __init__(self, window: Any, menu: Any) -> None:
        """``window``: the main window (its engine, notifications and status bar)."""
        super().__init__(window)
        self.window = window
        self.action = QAction("&Adapt search to my documents…", window)
        self.action.setStatusTip("Fine-tune the embedding model on your library, measured, reversible")
        self.action.triggered.connect(self.open_dialog)
        menu.addAction(self.action)
        self.dialog: TuneDialog | None = None
        self.worker: GeneratorWorker | None = None
        self.missing_notice = ""
        self.refusal_box: QMessageBox | None = None
        window.engine.data_dir_changed.connect(self.check_missing_model)
        QTimer.singleShot(0, self.check_missing_model)

    def check_missing_model(self) -> None:
        """A library whose tuned model is gone: say so in the banner, with the way back as its button."""
        path = self.engine.settings.data_path
        tuned = read_tuned(path)
        if tuned is None or (tuned.path(path) / "config.json").is_file():
            return
        self.missing_notice = (f"This library's search was adapted to its documents with a model that is missing "
                               f"from {tuned.path(path)}. Search cannot run until the library returns to its "
                               "original embedding model (its original vectors were kept).")
        self.window.notifications.notify(self.missing_notice, Severity.WARNING,
                                         actions=(Action("Return to the original model", lambda: self.revert()),))

    @property
    def engine(self) -> Any:
        return self.window.engine

    def refusal(self) -> str:
        """Why tuning cannot start now, or ""."""
        if self.worker is not None:
            return BUSY_TUNING
        if self.engine.ingesting:
            return BUSY_INDEXING
        chunks = self.engine.stats().get("chunks", 0)
        if chunks < MIN_CHUNKS:
            return (f"The library has {chunks} passages; adapting search needs at least {MIN_CHUNKS}. "
                    "Add more documents first.")
        return ""

    def open_dialog(self) -> TuneDialog | None:
        why = self.refusal()
        if why:
            self.window.show_status_message(why)
            self.refusal_box = QMessageBox(QMessageBox.Icon.Information, "Adapt search to my documents", why,
                                           parent=self.window)
            self.refusal_box.open()  # not exec(): nothing waits on it
            return None
        self.dialog = TuneDialog(self.window)
        self.dialog.start_requested.connect(self.start)
        self.dialog.show()
        return self.dialog

    def start(self, request: TuneRequest | None = None) -> GeneratorWorker | None:
        why = self.refusal()
        dialog = self.dialog
        if self.worker is not None or dialog is None:  # the running one keeps its dialog
            self.window.show_status_message(why or BUSY_TUNING)
            return None
        if why:
            dialog.show_finished(why)
            return None
        models = self.engine.models
        job = partial(tune_job, self.engine.settings, models.embedder, models.chat_model, request or TuneRequest())
        self.worker = self.engine.pool.start(job, "Adapting search to your documents", yielded=dialog.show_progress,
                                             returned=self._on_tune_worker_returned,
                                             errored=self._on_tune_worker_errored, finished=self._on_worker_finished)
        dialog.cancel_requested.connect(self.worker.quit)
        return self.worker

    def _on_tune_worker_returned(self, result: Any) -> None:
        headline = ("Search now uses a model adapted to your documents." if result.adopted else
                    "The adapted model did not find your pages more reliably, so search is unchanged.")
        if self.dialog is not None:
            self.dialog.show_finished(headline, format_result(result))
        if result.adopted:
            self.library_model_changed()

    def _on_tune_worker_errored(self, exc: BaseException) -> None:
        text = ("Cancelled: search is unchanged." if isinstance(exc, Cancelled) else
                f"Adapting search failed: {exc}. Search is unchanged.")
        if self.dialog is not None:
            self.dialog.show_finished(text)

    def _on_worker_finished(self) -> None:
        self.worker = None

    def library_model_changed(self) -> None:
        """A fresh embedder and shared store: the library's vectors were made by another model now."""
        engine = self.engine
        engine.models.renew_embedder()
        retired, engine.shared_store = engine.shared_store, SharedStore(engine.settings.data_path)
        retired.retire()
        engine.load_models([EMBEDDER])

    # ------------------------------------------------------------------ Settings > Embeddings

    def embeddings_box(self) -> EmbeddingsBox:
        path = self.engine.settings.data_path
        box = EmbeddingsBox(describe_tuned(path), read_tuned(path) is not None)
        box.revert_requested.connect(partial(self.revert, box))
        return box

    def revert(self, box: EmbeddingsBox | None = None) -> GeneratorWorker | None:
        if self.worker is not None or self.engine.ingesting:
            self.window.show_status_message(BUSY_TUNING if self.worker is not None else BUSY_INDEXING)
            return None
        done = partial(self._on_revert_worker_returned, box)
        self.worker = self.engine.pool.start(partial(revert_job, self.engine.settings), "Returning to the original "
                                             "embedding model", returned=done, finished=self._on_worker_finished)
        return self.worker

    def _on_revert_worker_returned(self, box: EmbeddingsBox | None, result: Any) -> None:
        self.library_model_changed()
        self.window.show_status_message("Search uses the original embedding model again.")
        if box is not None:
            box.description.setText(describe_tuned(self.engine.settings.data_path))
            box.revert_button.hide()
