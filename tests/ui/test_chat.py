"""The chat: streamed answers, Stop, sources and page previews, saved conversations, errors."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import REPLY, WAIT_MS, close_window, index_docs, wait_idle
from desktop_rag.errors import ModelNotFoundError, RemoteModelError
from fakes import StreamingChatModel

QUESTION = "How much was widget revenue in the third quarter?"


def ask(qtbot, window, question: str = QUESTION) -> None:  # noqa: ANN001
    window.chat.question.setFocus()
    qtbot.keyClicks(window.chat.question, question)
    qtbot.keyClick(window.chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_tokens_stream_into_the_chat_and_sources_appear(qtbot, make_window, docs: Path) -> None:
    model = StreamingChatModel(REPLY, delay_s=0.02)
    window = make_window(chat_model=model)
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    assert window.chat.answering
    assert QUESTION in window.chat.rendered_text()
    # Part of the reply is on screen while the rest is still being written.
    qtbot.waitUntil(lambda: "Widget revenue was" in window.chat.rendered_text(), timeout=WAIT_MS)
    assert window.chat.answering and "green cheese" not in window.chat.rendered_text()
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    text = window.chat.rendered_text()
    assert "Widget revenue was 42 million dollars" in text and "green cheese" in text
    assert "[1]" in text  # a citation marker after the supported sentence
    assert "not supported by any source" in text  # the made-up sentence is marked
    sources = window.sources
    assert sources.list.count() >= 1
    assert sources.citations[0].file == "widgets.pdf"
    html = window.chat.transcript.toHtml()
    assert 'href="cite:1:1"' in html and "unsupported:1:1" in html


def test_model_output_is_never_rendered_as_markup(qtbot, make_window, docs: Path) -> None:
    reply = ('Widget revenue was 42 million dollars. <a href="https://evil.example">click</a> '
             '<img src="x.png"> <b>bold</b>')
    window = make_window(chat_model=StreamingChatModel(reply))
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    html = window.chat.transcript.toHtml()
    assert 'href="https://evil.example"' not in html and "<img" not in html and "<b>bold" not in html
    assert '<a href="https://evil.example">click</a>' in window.chat.rendered_text()  # shown as text


def test_stop_stops_the_stream(qtbot, make_window, docs: Path) -> None:
    model = StreamingChatModel(REPLY, delay_s=0.01, endless=True)
    window = make_window(chat_model=model)
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: model.streamed >= 5, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.chats.worker is None, timeout=WAIT_MS)
    streamed = model.streamed
    qtbot.wait(200)
    assert model.streamed == streamed  # nothing more was generated after Stop
    last = window.chat.last_message()
    assert last.stopped and last.text
    assert "Stopped." in window.chat.rendered_text()
    saved = window.chats.conversations.messages(window.chats.current)
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].stopped
    assert window.chat.send_action.isEnabled()  # ready for the next question


def test_clicking_a_source_shows_its_page_with_the_passage_highlighted(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: not window.chat.answering and window.sources.list.count() > 0, timeout=WAIT_MS)
    sources = window.sources
    sources.page_view.show_message("nothing yet")
    item_rect = sources.list.visualItemRect(sources.list.item(0))
    qtbot.mouseClick(sources.list.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    qtbot.waitUntil(lambda: sources.page_view.highlight_count > 0, timeout=WAIT_MS)
    page = sources.page_view.page
    assert page is not None and page.path.endswith("widgets.pdf") and page.number == sources.citations[0].page
    assert "widgets.pdf" in sources.page_title.text() and f"page {page.number} of 2" in sources.page_title.text()
    assert not sources.page_view.canvas.image.isNull()


def test_citation_marker_shows_that_source(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    window.sources.page_view.show_message("nothing yet")
    window.chat.transcript.anchorClicked.emit(QUrl("cite:1:1"))  # what a click on [1] emits
    qtbot.waitUntil(lambda: window.sources.page_view.highlight_count > 0, timeout=WAIT_MS)
    assert window.sources.list.currentRow() == 0


def test_conversations_persist_across_restarts_and_can_be_reopened_or_deleted(
        qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    close_window(qtbot, window)

    again = make_window()
    assert again.chat.conversations.count() == 1
    assert again.chat.conversations.item(0).text() == QUESTION
    assert "Ask your documents" in again.chat.rendered_text()  # a new chat is open
    item = again.chat.conversations.item(0)
    qtbot.mouseClick(again.chat.conversations.viewport(), Qt.MouseButton.LeftButton,
                     pos=again.chat.conversations.visualItemRect(item).center())
    text = again.chat.rendered_text()
    assert QUESTION in text and "Widget revenue was 42 million dollars" in text and "[1]" in text
    assert again.sources.list.count() >= 1  # the reopened answer's sources
    qtbot.mouseClick(again.chat.delete_button, Qt.MouseButton.LeftButton)
    assert again.chat.conversations.count() == 0
    assert QUESTION not in again.chat.rendered_text()


def test_a_missing_model_is_reported_inline_with_a_way_to_fix_it(qtbot, make_window) -> None:
    class MissingModel(StreamingChatModel):
        def load(self) -> None:
            raise ModelNotFoundError("model file not found: /nowhere/model.gguf")

    window = make_window(chat_model=MissingModel())
    qtbot.waitUntil(lambda: "Cannot load the language model" in window.banner.message, timeout=WAIT_MS)
    assert "model file not found" in window.banner.message
    assert "Language model: failed" in window.model_label.text()
    assert [b.text() for b in window.banner.action_buttons] == ["Settings…"]
    assert window.error_dialogs == []


@pytest.mark.parametrize("error", [RemoteModelError("the endpoint refused"), ZeroDivisionError("a bug")],
                         ids=["expected", "bug"])
def test_an_answer_that_fails_is_reported_once_in_the_transcript(qtbot, make_window, docs: Path,
                                                                  error: Exception) -> None:
    class FailingModel(StreamingChatModel):
        def stream_chat(self, messages, **kwargs):  # noqa: ANN001, ANN003, ANN201
            yield "Widget "
            raise error

    window = make_window(chat_model=FailingModel())
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    qtbot.waitUntil(lambda: window.chats.worker is None, timeout=WAIT_MS)
    qtbot.wait(100)  # a second report would arrive now
    assert f"The answer failed: {error}" in window.chat.rendered_text()
    assert window.chat.last_message().error == str(error)
    assert window.banner.message == "" and window.error_dialogs == []  # not again in the banner or a dialog


def test_an_unexpected_worker_error_shows_a_dialog_with_the_log_file(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window()

    def broken_job(should_stop):  # noqa: ANN001, ANN202
        yield "started"
        raise ZeroDivisionError("a bug")

    window.engine.pool.start(broken_job, "Broken job")
    qtbot.waitUntil(lambda: bool(window.error_dialogs), timeout=WAIT_MS)
    dialog = window.error_dialogs[0]
    assert "ZeroDivisionError: a bug" in dialog.text()
    assert str(tmp_path / "test.log") in dialog.informativeText()
    assert "Traceback" in dialog.detailedText()


def test_uncaught_exceptions_in_threads_reach_the_notification_manager(qtbot, make_window) -> None:
    import threading

    from desktop_rag.app import install_excepthooks

    window = make_window()
    install_excepthooks(window.notifications)
    thread = threading.Thread(target=lambda: 1 / 0, name="helper")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(window.error_dialogs), timeout=WAIT_MS)
    assert "in helper" in window.error_dialogs[0].text()
