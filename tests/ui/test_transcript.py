"""The transcript's HTML: quotes first and escaped, the unsure note, links that parse back."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QTextDocument  # noqa: E402

from desktop_rag.core.answer.answerer import UNSURE  # noqa: E402
from desktop_rag.core.store.conversations import StoredMessage  # noqa: E402
from desktop_rag.core.types import AnswerSentence, Quote  # noqa: E402
from desktop_rag.ui.transcript import (LEGEND, QUOTES_TITLE, UNQUOTED_LEGEND, Colors, parse_link,  # noqa: E402
                                      transcript_html)

COLORS = Colors(text="#000000", muted="#777777", link="#0000ff", warning="#a04c00", user_background="#eeeeee",
                answer_background="#ffffff")
EVIL = '<a href="https://evil.example">click</a> <img src="x.png"> <b>bold</b> & "so" on'


def _answer(quotes: tuple[Quote, ...] = (), unsure: bool = False) -> StoredMessage:
    return StoredMessage(0, "assistant", "It was 5.", 0.0, (AnswerSentence("It was 5. [1]", (1,), True),),
                         quotes=quotes, unsure=unsure)


def _plain(html: str) -> str:
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


def test_quotes_come_before_the_answer_with_their_file_and_page_as_a_link(qapp) -> None:  # noqa: ANN001
    quotes = (Quote("Revenue was 5.", "a.pdf", "/a.pdf", 3, 1, 0, 14, 1),
              Quote("Total 5 4", "b.pdf", "/b.pdf", 9, 2, 7, 16, 2))
    html = transcript_html([StoredMessage(0, "user", "What?", 0.0), _answer(quotes)], COLORS)
    assert html.index(QUOTES_TITLE) < html.index("Revenue was 5.") < html.index("Total 5 4") < html.index("It was 5.")
    assert '<a href="quote:1:0"' in html and '<a href="quote:1:1"' in html and 'href="cite:1:1"' in html
    text = _plain(html)
    assert "\u201cRevenue was 5.\u201d\na.pdf, page 3" in text and "b.pdf, page 9" in text


def test_nothing_in_a_quote_or_a_file_name_becomes_markup(qapp) -> None:  # noqa: ANN001
    html = transcript_html([_answer((Quote(EVIL, f"{EVIL}.pdf", "/x.pdf", 1, 1, 0, 10, 1),))], COLORS)
    assert "<a href=\"https" not in html and "<img" not in html and "<b>" not in html
    doc = QTextDocument()
    doc.setHtml(html)
    assert f"\u201c{EVIL}\u201d" in doc.toPlainText() and f"{EVIL}.pdf, page 1" in doc.toPlainText()
    anchors = [fmt.anchorHref() for block in _blocks(doc) for fmt in _formats(block) if fmt.isAnchor()]
    assert set(anchors) == {"quote:0:0", "cite:0:1"}


def _blocks(doc: QTextDocument) -> list:  # noqa: ANN401 - QTextBlock
    block, found = doc.begin(), []
    while block.isValid():
        found.append(block)
        block = block.next()
    return found


def _formats(block) -> list:  # noqa: ANN001
    it, found = block.begin(), []
    while not it.atEnd():
        found.append(it.fragment().charFormat())
        it += 1
    return found


def test_an_unsure_answer_says_so_in_the_warning_colour_instead_of_quoting(qapp) -> None:  # noqa: ANN001
    html = transcript_html([_answer(unsure=True)], COLORS)
    assert UNSURE.split(":")[0] in html and COLORS.warning in html and QUOTES_TITLE not in html
    assert _plain(html).index(UNSURE) < _plain(html).index("It was 5.")


def test_an_answer_without_quotes_shows_no_quote_block() -> None:
    assert QUOTES_TITLE not in transcript_html([_answer()], COLORS)


def test_the_answer_being_written_shows_its_quotes_over_an_empty_paragraph() -> None:
    streaming = StoredMessage(0, "assistant", "", 0.0, quotes=(Quote("Revenue was 5.", "a.pdf", "/a", 2, 1, 0, 9, 1),))
    html = transcript_html([StoredMessage(0, "user", "What?", 0.0)], COLORS, streaming=streaming)
    assert 'href="quote:1:0"' in html and html.endswith("<p></p></div>")


def test_a_sentence_stating_a_figure_no_quote_states_is_marked_with_its_own_tip(qapp) -> None:  # noqa: ANN001
    sentences = (AnswerSentence("It was 700.", (1,), True, unquoted=True), AnswerSentence("It rose.", (1,), True))
    message = StoredMessage(0, "assistant", "It was 700. It rose.", 0.0, sentences,
                            quotes=(Quote("Revenue 5,000 4,000", "a.pdf", "/a.pdf", 3, 1, 0, 19, 1),))
    html = transcript_html([message], COLORS)
    assert '<a href="unquoted:0:0"' in html and "unquoted:0:1" not in html and UNQUOTED_LEGEND in html
    assert LEGEND not in html  # no sentence is unsupported
    both = StoredMessage(0, "assistant", "It was 700. Pizza.", 0.0, (sentences[0], AnswerSentence("Pizza.", (), False)))
    html = transcript_html([both], COLORS)
    assert LEGEND in html and UNQUOTED_LEGEND in html and 'href="unsupported:0:1"' in html
    assert parse_link("unquoted:0:0") == ("unquoted", 0, 0)


def test_links_parse_back() -> None:
    assert parse_link("quote:3:1") == ("quote", 3, 1)
    assert parse_link("cite:0:2") == ("cite", 0, 2)
    assert parse_link("unsupported:1:0") == ("unsupported", 1, 0)
    assert parse_link("https://evil.example") is None and parse_link("quote:x:1") is None


def test_an_answer_in_a_scope_says_where_it_searched_escaped(qapp) -> None:  # noqa: ANN001
    scoped = StoredMessage(0, "assistant", "It was 5.", 0.0, extra={"scope": "<b>Q3</b> & more"})
    html = transcript_html([StoredMessage(0, "user", "What?", 0.0, extra={"scope": "ignored"}), scoped,
                            _answer()], COLORS)
    assert "<b>Q3</b>" not in html and "&lt;b&gt;Q3&lt;/b&gt; &amp; more" in html
    text = _plain(html)
    assert "Answer · in: <b>Q3</b> & more" in text
    assert text.count("in: ") == 1  # not on the question, not on an answer that searched everything
    streaming = transcript_html([], COLORS, streaming=StoredMessage(0, "assistant", "", 0.0, extra={"scope": "Q3"}))
    assert "Answer · in: Q3" in _plain(streaming)
