"""The main window: library | chat | sources, the notification banner, menus and the status bar.

It composes the panels and wires their signals to the :class:`Engine`; it holds no business
logic. Closing while workers run asks them to stop and closes once they have finished, so
what was committed stays and the files not finished are offered again at the next start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QRect, QSettings, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from desktop_rag.config import Settings, needs_reindex, save_settings
from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.text import counted
from desktop_rag.core.types import IngestReport
from desktop_rag.errors import StoreWriteError
from desktop_rag.model_cache import EMBEDDER, LLM, ModelCache, ModelState
from desktop_rag.ui.chat_controller import ChatController
from desktop_rag.ui.chat_panel import ChatPanel
from desktop_rag.ui.collections_controller import CollectionsController
from desktop_rag.ui.engine import Engine
from desktop_rag.ui.library_model import DocumentRow
from desktop_rag.ui.library_panel import LibraryPanel
from desktop_rag.ui.notifications import Action, NotificationBanner, NotificationManager, Severity, show_error_dialog
from desktop_rag.ui.quality_dialog import QualityDialog
from desktop_rag.ui.tune_controller import TuneController
from desktop_rag.ui.settings_dialog import SettingsDialog
from desktop_rag.ui.sources_panel import SourcesPanel
from desktop_rag.ui.theme import scale_font
from desktop_rag.ui.watch_controller import WatchController
from desktop_rag.ui.workers import GeneratorWorker

if TYPE_CHECKING:  # the evaluation is imported when the check runs, not at start-up
    from desktop_rag.eval_service import EvalProgress

log = logging.getLogger(__name__)

TITLE = "Desktop RAG - chat with your PDFs"
CLOSE_TIMEOUT_MS = 30_000
RESUME_KEY = "ingest/unfinished"
READ_ONLY_NOTICE = ("The library in {folder} cannot be changed (the folder is read-only): it is open for reading. "
                    "Search and ask as usual; adding, removing and re-indexing documents and changing collections "
                    "are refused, and conversations are kept only until the window closes.")


FIRST_RUN_SIZE = QSize(1440, 860)
SCREEN_SHARE = 0.95
PANEL_WIDTHS = (430, 600, 410)  # library, chat, sources at the first-run size


def first_run_size(available: QRect | None) -> QSize:
    """1440x860, or less on a smaller screen: a window wider than the screen hides the sources."""
    if available is None:
        return FIRST_RUN_SIZE
    return QSize(min(FIRST_RUN_SIZE.width(), int(available.width() * SCREEN_SHARE)),
                 min(FIRST_RUN_SIZE.height(), int(available.height() * SCREEN_SHARE)))


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, notifications: NotificationManager, ui_state: QSettings, *,
                 models: ModelCache | None = None, config_file: Path | None = None,
                 load_models: bool = True) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.notifications, self.ui_state, self.config_file = notifications, ui_state, config_file
        self.engine = Engine(settings, notifications, models, parent=self)
        self.engine.settings_action = Action("Settings…", self.open_settings)
        self.library, self.chat, self.sources = LibraryPanel(), ChatPanel(), SourcesPanel()
        self.banner = NotificationBanner()
        self.chats = ChatController(self.engine, self.chat, self.sources, self.show_status_message, self)
        self.collections = CollectionsController(self.engine, self.library, self.chat, self.show_status_message, self)
        self.watching = WatchController(self.engine, self.library.watched, self)
        self._closing = self._close_now = self._closed = False
        self.error_dialogs: list[QMessageBox] = []
        self._base_point_size = QApplication.font().pointSizeF()
        self._build_layout()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self._restore_state()
        self.refresh_library()
        self._announce_read_only()
        self._on_engine_model_state_changed()
        if load_models:
            QTimer.singleShot(0, self.engine.load_models)
        QTimer.singleShot(0, self._offer_resume)

    # ------------------------------------------------------------------ construction

    def _build_layout(self) -> None:
        self.splitter = QSplitter()
        for panel in (self.library, self.chat, self.sources):
            self.splitter.addWidget(panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes(list(PANEL_WIDTHS))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.setAcceptDrops(True)
        # Tab goes left to right: library, then the question and the chat, then the sources.
        lib, chat = self.library, self.chat
        order = (lib.top_add_button, lib.filter.combo, lib.filter.menu_button, lib.table, lib.remove_button,
                 lib.reindex_button, chat.scope, chat.question,
                 chat.send_button, chat.stop_button, chat.transcript, chat.conversations, chat.new_chat_button,
                 chat.delete_button, self.sources.list, self.sources.open_button)
        for first, second in zip(order, order[1:], strict=False):
            self.setTabOrder(first, second)

    def _build_status_bar(self) -> None:
        self.activity_label, self.stats_label, self.model_label = QLabel(), QLabel(), QLabel()
        for label, name in ((self.activity_label, "Background work"), (self.stats_label, "Index statistics"),
                            (self.model_label, "Model status")):
            label.setAccessibleName(name)
            self.statusBar().addPermanentWidget(label)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even where the platform has no visible menu bar
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        self.add_files_action = self._action(m, "&Add files…", self.library.choose_files, QKeySequence.StandardKey.Open)
        self._action(m, "Add &folder…", self.library.choose_folder, "Ctrl+Shift+O")
        self._action(m, "&Watch a folder…", self.library.watched.choose_folder, tip="Keep a folder's documents indexed")
        m.addSeparator()
        self.settings_action = self._action(m, "&Settings…", self.open_settings, "Ctrl+,")
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        m = bar.addMenu("&Library")
        self.cancel_action = self._action(m, "&Cancel indexing", self.engine.cancel_ingestion, "Ctrl+Shift+X")
        self._action(m, "&Re-index selected", self.library.reindex_selected, "Ctrl+R")
        self._action(m, "Re&move selected", self.library.remove_selected, "Ctrl+Shift+Del")
        self._action(m, "Re-index &everything", self.reindex_all)
        m.addSeparator()
        self.quality_action = self._action(m, "Check retrieval &quality…", self.check_quality,
                                           tip="Score search on questions generated from your own documents")
        self.tune = TuneController(self, m)  # Adapt search to my documents… (ui/tune_controller.py)
        m = bar.addMenu("&Chat")
        for action in (self.chat.send_action, self.chat.stop_action, self.chat.new_chat_action):
            m.addAction(action)
        self._action(m, "&Ask a question", self.chat.focus_question, "Ctrl+L")
        self._action(m, "&Open page in system viewer", self.sources.open_current, "Ctrl+Shift+P")
        m = bar.addMenu("&View")
        self._action(m, "Go to &library", self.library.focus_table, "Ctrl+1")
        self._action(m, "Go to &chat", self.chat.focus_question, "Ctrl+2")
        self._action(m, "Go to &sources", self.sources.list.setFocus, "Ctrl+3")
        m.addSeparator()
        self._action(m, "Zoom &in", lambda: self.zoom(1), [QKeySequence.StandardKey.ZoomIn, "Ctrl+="])
        self._action(m, "Zoom &out", lambda: self.zoom(-1), QKeySequence.StandardKey.ZoomOut)
        self._action(m, "&Reset zoom", lambda: self.zoom(0), "Ctrl+0")
        m = bar.addMenu("&Help")
        self._action(m, "Open &log folder", self.open_log_folder)
        self._action(m, "&About", self.about)

    def _connect(self) -> None:
        self.notifications.notified.connect(self._on_notifications_notified)
        self.library.files_added.connect(self.add_paths)
        self.library.remove_requested.connect(self._on_library_remove_requested)
        self.library.reindex_requested.connect(self._on_library_reindex_requested)
        self.library.cancel_requested.connect(self.engine.cancel_ingestion)
        e = self.engine
        e.ingest_queued.connect(self.library.model.mark_queued)
        e.ingest_progressed.connect(self._on_engine_ingest_progressed)
        e.ingest_dropped.connect(self.library.model.mark_dropped)
        e.ingest_finished.connect(self._on_engine_ingest_finished)
        e.library_changed.connect(self.refresh_library)
        e.data_dir_changed.connect(self._announce_read_only)
        e.model_state_changed.connect(self._on_engine_model_state_changed)
        e.pool.activity_changed.connect(self._on_pool_activity_changed)

    # ------------------------------------------------------------------ library

    def _announce_read_only(self) -> None:
        if self.engine.store.read_only:
            self.notifications.notify(READ_ONLY_NOTICE.format(folder=display_path(self.engine.settings.data_path)),
                                      Severity.INFO)

    def _writable(self) -> bool:
        """False, and why in the banner, when the library was opened for reading only."""
        try:
            self.engine.store.require_writable()
        except StoreWriteError as exc:
            self.notifications.notify(str(exc), Severity.WARNING)
            return False
        return True

    def add_paths(self, paths: Sequence[str]) -> list[str]:
        """Index files and folders added or dropped; a folder's files join a collection named after it."""
        if not self._writable():
            return []
        queued = self.engine.add_paths(paths, collect_folders=True)
        if not queued:
            self.show_status_message("No new PDF files there (folders are searched for *.pdf)")
        return queued

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - drops anywhere in the window
        self.library.dragEnterEvent(event)

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        self.library.dropEvent(event)

    def refresh_library(self) -> None:
        stats = self.engine.stats()
        self.library.model.sync_documents(self.engine.documents())
        self.collections.refresh()
        self.library.set_stats(stats)
        self.chat.set_has_documents(stats["documents"] > 0)
        self.stats_label.setText(f"Index: {counted(stats['documents'], 'document')}, "
                                 f"{counted(stats['chunks'], 'passage')}")

    def _on_engine_ingest_progressed(self, event: Any) -> None:
        self.library.apply_progress(event)
        name = display_name(event.path)
        self.activity_label.setText(f"Indexing {event.file_index + 1}/{event.file_count}: {name} "
                                    f"({event.stage.value})")

    def _on_engine_ingest_finished(self, report: IngestReport) -> None:
        verb = "Indexing cancelled" if report.cancelled else "Indexing finished"
        self.show_status_message(f"{verb}: {len(report.indexed)} indexed, {len(report.skipped)} skipped, "
                                 f"{len(report.failed)} failed in {report.seconds:.0f} s", 10_000)

    def _on_library_remove_requested(self, rows: Sequence[DocumentRow]) -> None:
        if not self._writable():
            return
        stored = [r.doc_id for r in rows if r.doc_id is not None]
        self.library.model.drop_rows([r.path for r in rows if r.doc_id is None])
        if stored:
            self.engine.remove_documents(stored)
        self.show_status_message(f"Removed {len(rows)} document{'s' if len(rows) > 1 else ''} from the library "
                                 "(the files stay on disk)")

    def _on_library_reindex_requested(self, paths: Sequence[str]) -> None:
        if self._writable():
            self.engine.add_paths(paths, replace=True)

    def reindex_all(self) -> None:
        paths = [d.path for d in self.engine.documents()]
        if paths and self._writable():
            self.engine.add_paths(paths, replace=True)

    def _offer_resume(self) -> None:
        paths = [p for p in (self.ui_state.value(RESUME_KEY) or []) if os.path.isfile(p)]
        self.ui_state.remove(RESUME_KEY)
        if paths:
            n = len(paths)
            self.notifications.notify(
                f"{n} file{'s were' if n > 1 else ' was'} still being indexed when the app last closed.",
                Severity.INFO, actions=(Action("Resume indexing", lambda: self.engine.add_paths(paths)),))

    # ------------------------------------------------------------------ status and notifications

    def show_status_message(self, text: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _on_notifications_notified(self, notification: Any) -> None:
        self.banner.show_notification(notification)
        if not notification.expected:  # a bug: details and the log file in a dialog as well
            self.error_dialogs.append(show_error_dialog(self, notification, self.notifications.log_file))

    def _on_pool_activity_changed(self, text: str) -> None:
        if not text or not self.engine.ingesting:
            self.activity_label.setText(text)

    def _on_engine_model_state_changed(self, *args: Any) -> None:
        words = {ModelState.LOADING: "loading…", ModelState.READY: "ready", ModelState.FAILED: "failed"}
        embed_state, _ = self.engine.model_states[EMBEDDER]
        llm_state, llm_detail = self.engine.model_states[LLM]
        llm = words.get(llm_state, llm_state)
        if llm_state == ModelState.READY:
            llm = f"{llm_detail.split(' (')[0]} ready"
        self.model_label.setText(f"Embeddings: {words.get(embed_state, embed_state)} · Language model: {llm}")
        self.model_label.setToolTip(llm_detail)

    # ------------------------------------------------------------------ settings, view, help

    def check_quality(self) -> GeneratorWorker | None:
        """Self-evaluation on a worker; the results dialog opens when it is done."""
        if self.engine.stats().get("chunks", 0) == 0:
            self.show_status_message("Add documents first: the check asks questions about your library.")
            return None
        self.quality_action.setEnabled(False)
        # No errored slot: an error goes to the notification manager, once.
        return self.engine.check_quality(yielded=self._on_quality_worker_yielded,
                                         returned=self._on_quality_worker_returned,
                                         finished=self._on_quality_worker_finished)

    def _on_quality_worker_yielded(self, event: EvalProgress) -> None:
        self.show_status_message(f"Checking retrieval quality: {event.stage} {event.done}/{event.total}", 0)

    def _on_quality_worker_finished(self) -> None:
        self.quality_action.setEnabled(True)

    def _on_quality_worker_returned(self, result: tuple[str, str]) -> None:
        self.show_status_message("Retrieval quality check finished.")
        self.quality_dialog = QualityDialog(*result, parent=self)
        self.quality_dialog.show()

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.engine.settings, self.engine.gpu_offload_available, self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.result_settings()))
        dialog.open()
        self.settings_dialog = dialog
        return dialog

    def apply_settings(self, settings: Settings) -> None:
        old = self.engine.settings
        if settings == old:
            return
        save_settings(settings, self.config_file)
        self.engine.apply_settings(settings)
        self.show_status_message("Settings saved")
        if needs_reindex(old, settings) and self.engine.documents():
            self.notifications.notify(
                "Passage size, overlap or embedding model changed. Documents indexed before use the old values "
                "until they are re-indexed.", Severity.INFO,
                actions=(Action("Re-index everything now", self.reindex_all),))

    def zoom(self, step: int) -> None:
        steps = 0 if step == 0 else int(self.ui_state.value("view/font_steps", 0)) + step
        steps = max(-4, min(10, steps))
        self.ui_state.setValue("view/font_steps", steps)
        scale_font(QApplication.instance(), self._base_point_size, steps)

    def open_log_folder(self) -> None:
        if self.notifications.log_file:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.notifications.log_file).parent)))

    def about(self) -> None:
        QMessageBox.about(self, "About Desktop RAG",
                          "Desktop RAG: ask questions about your PDFs, offline. Answers cite the page they "
                          f"came from.\n\nData folder: {self.engine.settings.data_path}\n"
                          f"Log file: {self.notifications.log_file}")

    # ------------------------------------------------------------------ state and closing

    def _restore_state(self) -> None:
        geometry = self.ui_state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            size = first_run_size(self.screen().availableGeometry() if self.screen() else None)
            self.resize(size)
            share = size.width() / FIRST_RUN_SIZE.width()  # a smaller window: every panel in proportion
            self.splitter.setSizes([int(w * share) for w in PANEL_WIDTHS])
        splitter = self.ui_state.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        steps = int(self.ui_state.value("view/font_steps", 0))
        if steps:
            scale_font(QApplication.instance(), self._base_point_size, steps)

    def _save_state(self) -> None:
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        self.ui_state.setValue("window/splitter", self.splitter.saveState())
        unfinished = self.engine.unfinished_paths
        if unfinished:
            self.ui_state.setValue(RESUME_KEY, unfinished)
        self.ui_state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.engine.busy and not self._close_now:
            if not self._closing:
                self._closing = True
                self.chats.stop()
                self.engine.shutdown()
                self.setEnabled(False)
                self.statusBar().showMessage("Stopping background work… documents already indexed are kept.")
                self.engine.pool.all_finished.connect(self._close_when_idle, Qt.ConnectionType.QueuedConnection)
                QTimer.singleShot(CLOSE_TIMEOUT_MS, self._close_when_idle)
            event.ignore()
            return
        if not self._closed:
            self._closed = True
            self._save_state()
            self.chats.close()
            self.watching.close()
            self.engine.close()
        event.accept()

    def _close_when_idle(self) -> None:
        if not self._closed:
            self._close_now = True
            self.close()
