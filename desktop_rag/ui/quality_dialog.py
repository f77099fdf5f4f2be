"""Library > Check retrieval quality: self-evaluation in the background, then a table and a chart.

The work is :func:`desktop_rag.jobs.check_quality` (questions generated from the user's own
passages, scored at page and document level per retrieval mode), started by the window; this
module presents the result.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget

from desktop_rag.jobs import SELF_CHECK_QUESTIONS


class QualityDialog(QDialog):
    """The self-evaluation table (monospace) above its chart."""

    def __init__(self, table: str, chart_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrieval quality on your documents")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{SELF_CHECK_QUESTIONS} questions were written from passages sampled across your library; each is scored "
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
