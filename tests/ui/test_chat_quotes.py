"""Answers that quote: the lines of the documents that answer, shown first, linked to their page."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from PySide6.QtCore import QUrl

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import REPLY, WAIT_MS, close_window, index_docs, wait_idle
from desktop_rag.core.answer.answerer import UNSURE
from desktop_rag.core.store.conversations import StoredMessage
from desktop_rag.core.types import Citation, Quote
from desktop_rag.ui.transcript import QUOTES_TITLE
from fakes import StreamingChatModel
from pdfs import write_pdf
from test_chat import QUESTION, ask

SOURCE = "widgets.pdf, page 1"  # the link under a quote from the widgets report


def shown(quote: Quote) -> str:
    return f"\u201c{quote.text}\u201d"


class GatedChatModel(StreamingChatModel):
    """Writes nothing until the test opens the gate: what shows before the first token can be seen."""

    def __init__(self, reply: str = REPLY) -> None:
        super().__init__(reply)
        self.gate = threading.Event()

    def stream_chat(self, messages, **kwargs):  # noqa: ANN001, ANN003, ANN201
        self.gate.wait(60)
        yield from super().stream_chat(messages, **kwargs)


def answered(qtbot, window, question: str = QUESTION) -> None:  # noqa: ANN001
    ask(qtbot, window, question)
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    wait_idle(qtbot, window)


@contextmanager
def answer_held(qtbot, make_window, docs: Path) -> Iterator[object]:  # noqa: ANN001
    """A window asked the question, its model held before its first word until the block ends."""
    model = GatedChatModel()
    window = make_window(chat_model=model)
    index_docs(qtbot, window, [docs])
    ask(qtbot, window)
    try:
        yield window
    finally:
        model.gate.set()


def test_quotes_show_before_the_first_token_and_stay_above_the_answer(qtbot, make_window, docs: Path) -> None:
    with answer_held(qtbot, make_window, docs) as window:
        qtbot.waitUntil(lambda: SOURCE in window.chat.rendered_text(), timeout=WAIT_MS)
        assert window.chat.answering and window.chat.streamed() == ""  # no token yet
        before = window.chat.rendered_text()
        assert before.index(QUESTION) < before.index(QUOTES_TITLE) < before.index("\u201c") < before.index(SOURCE)
    qtbot.waitUntil(lambda: "green cheese" in window.chat.rendered_text(), timeout=WAIT_MS)
    streamed = window.chat.rendered_text()
    assert streamed.index(SOURCE) < streamed.index("green cheese")  # tokens go below the quotes
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    quote = window.chat.last_message().quotes[0]
    text = window.chat.rendered_text()
    assert text.index(QUESTION) < text.index(QUOTES_TITLE) < text.index(shown(quote)) < text.index(SOURCE)
    assert text.index(SOURCE) < text.index("green cheese")
    html = window.chat.transcript.toHtml()
    assert 'href="quote:1:0"' in html
    assert html.index('href="quote:1:0"') < html.index("unsupported:1:1")  # the quotes first
    assert 'href="cite:1:1"' in html  # the citation markers still there


def test_a_document_cannot_inject_markup_through_a_quote(qtbot, make_window, tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    folder.mkdir()
    lines = ["Widget revenue was 42 million dollars <b>bold</b> in the third quarter.",  # each on a line of its own
             'Third quarter widget revenue: <a href="https://evil.example">click</a> <img src="x.png">']
    write_pdf(folder / "evil <b>name.pdf", ["\n".join(lines)])
    window = make_window()
    index_docs(qtbot, window, [folder])
    answered(qtbot, window)
    quotes = [q for q in window.chat.last_message().quotes if "<" in q.text]
    assert quotes, "the test needs a quote holding markup"
    html = window.chat.transcript.toHtml()
    assert 'href="https://evil.example"' not in html and "<img" not in html
    assert "<b>bold" not in html and "<b>name" not in html
    text = window.chat.rendered_text()
    assert all(shown(q) in text for q in quotes)  # shown verbatim, as text
    assert "evil <b>name.pdf, page 1" in text


def test_clicking_a_quote_shows_its_page_with_the_quote_highlighted(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    rendered: list[Citation] = []
    render_page = window.engine.render_page

    def recording_render_page(citation: Citation, **slots):  # noqa: ANN003, ANN202
        rendered.append(citation)
        return render_page(citation, **slots)

    window.engine.render_page = recording_render_page
    index_docs(qtbot, window, [docs])
    answered(qtbot, window)
    quote = window.chat.last_message().quotes[0]
    window.sources.page_view.show_message("nothing yet")
    window.chat.transcript.anchorClicked.emit(QUrl("quote:1:0"))  # what a click on "widgets.pdf, page 1" emits
    qtbot.waitUntil(lambda: window.sources.page_view.highlight_count > 0, timeout=WAIT_MS)
    page = window.sources.page_view.page
    assert page.path.endswith("widgets.pdf") and page.number == quote.page
    citation = rendered[-1]
    assert (citation.page, citation.page_end, citation.doc_id) == (quote.page, quote.page, quote.doc_id)
    assert (citation.start_offset, citation.end_offset, citation.text) == (quote.start_offset, quote.end_offset,
                                                                           quote.text)
    assert citation.number == quote.passage and citation.chunk_id > 0  # its passage is among the sources
    cited = [c for c in window.sources.citations if c.number == quote.passage]
    assert window.sources.list.currentRow() == window.sources.citations.index(cited[0])
    assert "widgets.pdf" in window.sources.page_title.text()


def test_a_quote_is_clickable_while_the_answer_is_being_written(qtbot, make_window, docs: Path) -> None:
    with answer_held(qtbot, make_window, docs) as window:
        qtbot.waitUntil(lambda: SOURCE in window.chat.rendered_text(), timeout=WAIT_MS)
        window.sources.page_view.show_message("nothing yet")
        window.chat.transcript.anchorClicked.emit(QUrl("quote:1:0"))
        qtbot.waitUntil(lambda: window.sources.page_view.highlight_count > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)


def test_a_reopened_conversation_shows_its_quotes(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    answered(qtbot, window)
    quotes = window.chat.last_message().quotes
    assert quotes
    close_window(qtbot, window)

    again = make_window()
    again.chats._on_chat_conversation_selected(again.chats.conversations.conversations()[0].id)
    assert again.chat.last_message().quotes == quotes
    text = again.chat.rendered_text()
    assert text.index(QUOTES_TITLE) < text.index(shown(quotes[0])) < text.index(SOURCE) < text.index("green cheese")
    again.chat.transcript.anchorClicked.emit(QUrl("quote:1:0"))
    qtbot.waitUntil(lambda: again.sources.page_view.highlight_count > 0, timeout=WAIT_MS)


def test_when_search_is_unsure_the_answer_says_so_instead_of_quoting(qtbot, make_window) -> None:
    window = make_window()
    window.chat.begin_answer("What was the dividend?")
    window.chat.show_quotes([], True, [])
    assert UNSURE in window.chat.rendered_text()
    assert QUOTES_TITLE not in window.chat.rendered_text()
    window.chat.append_token("The documents do not say.")
    assert window.chat.rendered_text().index(UNSURE) < window.chat.rendered_text().index("do not say")
    window.chat.end_answer(StoredMessage(0, "assistant", "The documents do not say.", 0.0, unsure=True))
    text = window.chat.rendered_text()
    assert text.index(UNSURE) < text.index("do not say")


def test_the_best_quote_is_previewed_on_its_page_once_found(qtbot, make_window, docs: Path) -> None:
    with answer_held(qtbot, make_window, docs) as window:  # before the model has written a word
        qtbot.waitUntil(lambda: window.sources.page_view.highlight_count > 0, timeout=WAIT_MS)
        assert window.chat.streamed() == ""
    qtbot.waitUntil(lambda: not window.chat.answering, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    quote = window.chat.last_message().quotes[0]
    assert window.sources.page_view.page.number == quote.page and window.sources.page_view.highlight_count > 0
    marked = window.sources.list.currentRow()
    assert marked >= 0 and window.sources.citations[marked].number == quote.passage
