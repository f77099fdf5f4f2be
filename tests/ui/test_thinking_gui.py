"""A reasoning model's thinking in the chat: folded away under one line, unfolded on a click."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, index_docs
from fakes import StreamingChatModel

THINKING = "The user asks about widgets; the report gives revenue for the third quarter. "
REPLY = f"<think>{THINKING}</think>\n\nWidget revenue was 42 million dollars in the third quarter."


def test_thinking_is_folded_and_unfolds_on_a_click(qtbot, make_window, docs: Path) -> None:  # noqa: ANN001
    window = make_window(chat_model=StreamingChatModel(REPLY, delay_s=0.01))
    index_docs(qtbot, window, [docs])
    window.chat.question.setFocus()
    qtbot.keyClicks(window.chat.question, "How much was widget revenue?")
    qtbot.keyClick(window.chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Thinking…" in window.chat.rendered_text(), timeout=WAIT_MS)
    assert "report gives revenue" not in window.chat.rendered_text()  # never streamed as answer text
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    text = window.chat.rendered_text()
    assert "▸ Thinking (13 words)" in text and "report gives revenue" not in text
    assert "Widget revenue was 42 million dollars in the third quarter." in text and "[1]" in text
    assert "not supported" not in text  # the thinking was not checked as if it were the answer
    assert 'href="thinking:1:0"' in window.chat.transcript.toHtml()
    window.chat._on_transcript_anchor_clicked(QUrl("thinking:1:0"))
    assert "▾ Thinking (13 words)" in window.chat.rendered_text()
    assert THINKING.strip() in window.chat.rendered_text()
    window.chat._on_transcript_anchor_clicked(QUrl("thinking:1:0"))
    assert "report gives revenue" not in window.chat.rendered_text()
