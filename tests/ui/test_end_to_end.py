"""The real app on the real bundled models: drop a PDF, ask, watch the answer stream, open its source."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui_helpers import WIDGET_PAGES, close_window, drop_paths
from desktop_rag.app import create_window
from desktop_rag.config import Settings
from desktop_rag.ui.notifications import NotificationManager
from pdfs import write_pdf

pytestmark = pytest.mark.integration
SLOW_MS = 600_000  # model loading and CPU generation on a busy 2-core machine


def test_real_models_end_to_end(qtbot, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "widgets.pdf", WIDGET_PAGES)
    settings = Settings(data_dir=str(tmp_path / "data"), max_tokens=48)
    window = create_window(settings, NotificationManager(str(tmp_path / "e2e.log")))
    window.show()
    window.activateWindow()
    try:
        drop_paths(window.library, [pdf])  # before the models are ready: the user may add documents at once
        qtbot.waitUntil(lambda: window.engine.stats()["documents"] == 1, timeout=SLOW_MS)
        qtbot.waitUntil(lambda: window.engine.model_states["llm"][0] in ("ready", "failed"), timeout=SLOW_MS)
        assert window.engine.model_states["llm"][0] == "ready", window.banner.message
        assert "SmolLM2" in window.model_label.text()

        tokens: list[str] = []
        window.chat.question.setPlainText("How much was widget revenue in the third quarter?")
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
        window.chats.worker.yielded.connect(lambda e: tokens.append(e.text) if e.kind == "token" else None)
        qtbot.waitUntil(lambda: window.chats.worker is None, timeout=SLOW_MS)
        assert len(tokens) > 3  # the answer arrived token by token
        last = window.chat.last_message()
        assert last.role == "assistant" and last.text and not last.error
        assert window.sources.list.count() >= 1
        assert window.sources.citations[0].file == "widgets.pdf"
        sources = window.sources
        qtbot.mouseClick(sources.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=sources.list.visualItemRect(sources.list.item(0)).center())
        qtbot.waitUntil(lambda: sources.page_view.page is not None, timeout=SLOW_MS)
        assert window.sources.page_view.page.path == str(pdf)
        assert window.banner.message == "" and window.error_dialogs == []
    finally:
        close_window(qtbot, window)
