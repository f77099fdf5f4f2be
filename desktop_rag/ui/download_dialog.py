"""Download a model: paste a GGUF link, watch it come, cancel it, resume it later.

The download is :func:`desktop_rag.core.models.download.download_model` run by a worker; the file
appears among the models only once it is whole and checked (see that module). Cancel keeps the
partial file, so Download with the same link resumes where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.models.download import DownloadProgress, download_model
from desktop_rag.ui.model_picker import size_label
from desktop_rag.ui.workers import GeneratorWorker, WorkerPool

STEPS = 1000  # the bar counts thousandths: a QProgressBar is 32-bit, model files are larger


class DownloadDialog(QDialog):
    downloaded = Signal(str)  # the path of the model, whole and checked

    def __init__(self, dest_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download a model")
        self.setMinimumWidth(560)
        self.dest_dir = dest_dir
        self.pool = WorkerPool(lambda exc, _name: self._on_worker_errored(exc), max_threads=1, parent=self)
        self.worker: GeneratorWorker | None = None
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://huggingface.co/…/resolve/main/model-Q4_K_M.gguf")
        form.addRow("&Link to a .gguf file:", self.url)
        self.sha256 = QLineEdit()
        self.sha256.setPlaceholderText("optional: the SHA-256 the publisher gives (Hugging Face's is checked anyway)")
        form.addRow("&SHA-256:", self.sha256)
        form.addRow("Saved in:", QLabel(str(self.dest_dir)))
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, STEPS)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("A model of 1 to 5 GB takes minutes; you can cancel and resume later.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.start_button = QPushButton("&Download")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("&Cancel download")
        self.cancel_button.setEnabled(False)
        self.buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> None:
        url, sha = self.url.text().strip(), self.sha256.text().strip() or None
        if not url or self.running:
            return
        self._set_running(True)
        self.status.setText("Connecting…")
        self.worker = self.pool.start(
            lambda should_stop: download_model(url, self.dest_dir, sha256=sha, should_stop=should_stop),
            "Downloading a model", yielded=self._on_worker_yielded, returned=self._on_worker_returned,
            aborted=self._on_worker_aborted, errored=self._on_worker_errored, finished=self._on_worker_finished)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()
            self.status.setText("Cancelling…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.url.setReadOnly(running)
        self.sha256.setReadOnly(running)

    def _on_worker_yielded(self, event: DownloadProgress) -> None:
        if event.total:
            self.progress.setValue(round(STEPS * event.done / event.total))
        if event.stage == "verifying":
            self.status.setText(f"Checking the download: {size_label(event.done)} of {size_label(event.total or 0)}")
        else:
            of = f" of {size_label(event.total)}" if event.total else ""
            self.status.setText(f"Downloading: {size_label(event.done)}{of}")

    def _on_worker_returned(self, path: Path) -> None:
        self.progress.setValue(STEPS)
        self.status.setText(f"Done: {path.name} is whole and checked, and is now in the list of models.")
        self.downloaded.emit(str(path))

    def _on_worker_aborted(self, _partial: object) -> None:
        self.status.setText("Cancelled. The part downloaded is kept: Download with the same link resumes it.")

    def _on_worker_errored(self, exc: BaseException) -> None:
        self.status.setText(f"The download failed: {exc}")

    def _on_worker_finished(self) -> None:
        self.worker = None
        self._set_running(False)

    def reject(self) -> None:
        self.cancel()  # a download is not left running behind a closed dialog
        self.pool.wait_for_done(10_000)
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self.cancel()
        super().closeEvent(event)
