"""Library > Check retrieval quality: self-evaluation in the background, then a table and a chart.

The work is desktop_rag.eval_service.run_self_evaluation (questions generated from the user's own
passages, scored at page and document level per retrieval mode); this module only runs it on a
worker, shows its progress in the status bar and presents the result.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any, Callable, Generator

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget

from desktop_rag.config import Settings
from desktop_rag.services import Services
from desktop_rag.ui.shared_models import SharedModels
from desktop_rag.ui.workers import GeneratorWorker

QUESTIONS = 50


def _quality_job(settings: Settings, models: SharedModels, n: int,
                 should_stop: Callable[[], bool]) -> Generator[Any, None, tuple[str, str]]:
    from desktop_rag.eval_service import format_table, render_chart, run_self_evaluation

    with Services(settings, embedder=models.embedder, chat_model=models.chat_model) as services:
        result = yield from run_self_evaluation(services, n, should_stop)
    chart = Path(tempfile.mkdtemp(prefix="desktop-rag-quality-")) / "chart.png"
    render_chart(result, chart)
    return format_table(result), str(chart)


def quality_worker(settings: Settings, models: SharedModels, n: int = QUESTIONS) -> GeneratorWorker:
    """A worker that evaluates retrieval on ``n`` generated questions; connect, then start it."""
    return GeneratorWorker(partial(_quality_job, settings, models, n), "Checking retrieval quality")


class QualityDialog(QDialog):
    """The self-evaluation table (monospace) above its chart."""

    def __init__(self, table: str, chart_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrieval quality on your documents")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{QUESTIONS} questions were written from passages sampled across your library; each is scored "
            "by whether search finds the page it came from (hit@k) and how high (MRR, nDCG)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QPlainTextEdit(table)
        self.table.setReadOnly(True)
        self.table.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.table.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.table, 1)
        self.chart = QLabel()
        self.chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap(chart_path)
        self.chart.setPixmap(pixmap)
        self.chart.setAccessibleName("Chart comparing retrieval modes")
        scroll = QScrollArea()
        scroll.setWidget(self.chart)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 760)
