"""Settings > Language model: the GGUF models on this machine, to pick one from.

Lists what :func:`desktop_rag.services.find_models` finds (the bundled model, downloads, LM Studio,
Ollama, GPT4All, Jan, the Hugging Face cache, the folders the user adds), searched in a worker so
a slow or unplugged drive never freezes the dialog. Files that cannot be used (truncated, not a
GGUF, a vision projector) are listed greyed out with the reason, and cannot be picked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Generator, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.config import Settings
from desktop_rag.core.models.chat_formats import BASE_MODEL_NOTE
from desktop_rag.core.models.discovery import Discovery, FoundModel
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from desktop_rag.services import find_models
from desktop_rag.ui.workers import WorkerPool

COLUMNS = ("Model", "From", "Quantisation", "Parameters", "Context", "File", "Needs", "Fits now")
# What is wrong with a file, in a word or three (the whole message is its tooltip)
PROBLEM_LABELS = (("truncated", "no: truncated file"), ("vision projector", "no: vision projector"),
                  ("not a GGUF", "no: not a GGUF file"), ("not found", "no: file missing"))
PATH_ROLE = Qt.ItemDataRole.UserRole


def size_label(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def find_models_job(settings: Settings, folders: Sequence[str]) -> Callable[[Callable[[], bool]],
                                                                           Generator[None, None, Discovery]]:
    """A worker job (see ui/workers.py) that returns what :func:`find_models` finds."""
    def job(should_stop: Callable[[], bool]) -> Generator[None, None, Discovery]:
        yield from ()
        return find_models(settings.replace(model_folders=tuple(folders)), should_stop=should_stop)

    return job


BASE_MODEL_LABEL = "base model, answers poorly"


def _base_note(m: FoundModel) -> str:
    return f"{m.name} {BASE_MODEL_NOTE}." if m.info is not None and m.info.is_base_model else ""


def problem_label(problem: str) -> str:
    return next((label for key, label in PROBLEM_LABELS if key in problem), "no: cannot be used")


def _cells(m: FoundModel) -> list[str]:
    if m.info is None:
        return [m.name, m.source, "", "", "", "", "", problem_label(m.problem)]
    i = m.info
    fits = {True: "yes", False: "no: too large now", None: "unknown"}[m.fits]
    return [m.name, m.source, i.quantization, i.parameters_label(), f"{i.context_length:,}" if i.context_length else "?",
            size_label(i.file_size), size_label(m.memory_needed),
            problem_label(m.problem) if m.problem else f"{fits}: {BASE_MODEL_LABEL}" if i.is_base_model else fits]


class ModelPicker(QWidget):
    model_chosen = Signal(str)  # the path of a usable model the user picked

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.folders: list[str] = list(settings.model_folders)
        self.found = Discovery()
        self.pool = WorkerPool(lambda exc, _name: self._on_search_failed(exc), max_threads=1, parent=self)
        self._pending_selection, self._emit_pending = "", False
        self._in_use = settings.llm_model or str(bundled_llm_path())  # selected when first listed
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(COLUMNS)
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setMinimumHeight(120)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # publisher/…/file-Q4_K_M.gguf: the end matters
        self.table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # facts: as wide as they are
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name gets the rest
        self.table.header().setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.status = QLabel("Looking for models…")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.setToolTip("Also look for .gguf models in a folder of yours (kept in the settings)")
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Paste the link to a .gguf file (a Hugging Face file link, for example)")
        for button in (self.add_folder_button, self.refresh_button, self.download_button):
            row.addWidget(button)
        layout.addLayout(row)

    # ------------------------------------------------------------------ searching

    def refresh(self, select: str = "") -> None:
        """Search again (in a worker); ``select``: the path to select once found."""
        self._pending_selection = select or self.current_path() or self._in_use
        self._emit_pending = bool(select)  # a model just downloaded becomes the model file
        self.refresh_button.setEnabled(False)
        self.status.setText("Looking for models…")
        self.pool.start(find_models_job(self.settings, self.folders), "Looking for models",
                        returned=self.show_found, finished=lambda: self.refresh_button.setEnabled(True))

    def _on_search_failed(self, exc: BaseException) -> None:
        self.status.setText(f"The search for models failed: {exc}")

    def add_folder(self, folder: str) -> None:
        if folder and folder not in self.folders:
            self.folders.append(folder)
            self.refresh()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder with GGUF models", str(Path.home()))
        self.add_folder(folder)

    # ------------------------------------------------------------------ showing

    def show_found(self, found: Discovery) -> None:
        self.found = found
        self.table.clear()
        muted = QBrush(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        for m in found.models:
            item = QTreeWidgetItem(_cells(m))
            item.setData(0, PATH_ROLE, str(m.path))
            for column in range(len(COLUMNS)):
                item.setToolTip(column, f"{m.path}\n{m.problem or _base_note(m)}".rstrip())
            if not m.usable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                for column in range(len(COLUMNS)):
                    item.setForeground(column, muted)
            self.table.addTopLevelItem(item)
        for column in range(1, len(COLUMNS)):
            self.table.resizeColumnToContents(column)
        self.status.setText(self._summary(found))
        self.select_path(self._pending_selection, emit=self._emit_pending)

    @staticmethod
    def _summary(found: Discovery) -> str:
        usable = sum(m.usable for m in found.models)
        text = f"{usable} model{'s' if usable != 1 else ''} found"
        if len(found.models) > usable:
            text += f"; {len(found.models) - usable} cannot be used (hover for why)"
        if found.skipped:
            text += ". Skipped: " + "; ".join(found.skipped)
        return text

    def select_path(self, path: str, emit: bool = True) -> None:
        """Select the row of ``path`` (none when it is not listed)."""
        self.table.blockSignals(not emit)
        self.table.clearSelection()
        self.table.blockSignals(False)
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item.data(0, PATH_ROLE) == path and item.flags() & Qt.ItemFlag.ItemIsSelectable:
                self.table.blockSignals(not emit)
                self.table.setCurrentItem(item)
                self.table.blockSignals(False)
                return

    def current_path(self) -> str:
        item = self.table.currentItem()
        return str(item.data(0, PATH_ROLE)) if item is not None and item.isSelected() else ""

    def found_model(self, path: str) -> FoundModel | None:
        return next((m for m in self.found.models if str(m.path) == path), None)

    def _on_table_item_selection_changed(self) -> None:
        path = self.current_path()
        if path:
            self.model_chosen.emit(path)
