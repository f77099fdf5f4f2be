"""Library > Adapt search to my documents…: what it does, its progress, and its result; and the
Settings box that says which embedding model the library uses, with "Return to the original model".

The work runs in the background (:mod:`desktop_rag.ui.tune_controller`); these widgets only show it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGroupBox, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from desktop_rag.tune_service import TuneProgress

INTRO = ("Search can learn the words of your documents. Questions are written from passages across your "
         "library (a fifth of the pages are kept aside to measure on), the embedding model is trained on "
         "them for a few minutes, and every passage is embedded again while search keeps working. The new "
         "model is used only if search finds the right pages measurably more often; otherwise nothing "
         "changes. You can return to the original model at any time in Settings.")
STAGE_WORDS = {"pairs": "Writing questions from your passages", "training": "Training the embedding model",
               "embedding": "Embedding your passages with the new model", "measuring": "Measuring search",
               "switching": "Switching the library to the new model"}


class TuneDialog(QDialog):
    """Start, then progress (stage, bar, loss and time left) with Cancel, then the result table."""

    start_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Adapt search to my documents")
        layout = QVBoxLayout(self)
        self.intro = QLabel(INTRO)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.stage = QLabel("")
        self.bar = QProgressBar()
        self.detail = QLabel("")
        for widget in (self.stage, self.bar, self.detail):
            layout.addWidget(widget)
            widget.hide()
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.result.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.result.hide()
        layout.addWidget(self.result, 1)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.close_button = self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.hide()
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.close_button.clicked.connect(self.close)
        layout.addWidget(self.buttons)
        self.resize(760, 300)

    def _on_start_button_clicked(self) -> None:
        self.show_running()
        self.start_requested.emit()

    def _on_cancel_button_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.detail.setText("Cancelling… the library keeps the model it has.")
        self.cancel_requested.emit()

    def show_running(self) -> None:
        self.start_button.hide()
        self.close_button.hide()
        self.cancel_button.show()
        for widget in (self.stage, self.bar, self.detail):
            widget.show()
        self.stage.setText("Starting…")

    def show_progress(self, event: TuneProgress) -> None:
        self.stage.setText(STAGE_WORDS.get(event.stage, event.stage))
        self.bar.setRange(0, max(event.total, 1))
        self.bar.setValue(event.done)
        parts = [f"{event.done} of {event.total}"]
        if event.loss is not None:
            parts.append(f"loss {event.loss:.3f}")
        if event.seconds_left is not None:
            parts.append(f"about {max(1, round(event.seconds_left / 60))} min left")
        if self.cancel_button.isEnabled():
            self.detail.setText(" · ".join(parts))

    def show_finished(self, headline: str, table: str = "") -> None:
        """The outcome in words, and the before/after table when there is one."""
        self.cancel_button.hide()
        self.close_button.show()
        self.bar.hide()
        self.detail.hide()
        self.stage.setText(headline)
        self.stage.setWordWrap(True)
        if table:
            self.result.setPlainText(table)
            self.result.show()
            self.resize(max(self.width(), 980), 520)


class EmbeddingsBox(QGroupBox):
    """Settings > Embeddings: which model the library uses; "Return to the original model" when tuned."""

    revert_requested = Signal()

    def __init__(self, description: str, tuned: bool, parent: QWidget | None = None) -> None:
        super().__init__("Embeddings", parent)
        layout = QVBoxLayout(self)
        self.description = QLabel(description)
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        self.revert_button = QPushButton("Return to the original model")
        self.revert_button.setToolTip("Search again with the embedding model this library had before it was adapted")
        self.revert_button.setVisible(tuned)
        self.revert_button.clicked.connect(self._on_revert_button_clicked)
        layout.addWidget(self.revert_button)

    def _on_revert_button_clicked(self) -> None:
        self.revert_button.setEnabled(False)
        self.revert_button.setText("Returning to the original model…")
        self.revert_requested.emit()
