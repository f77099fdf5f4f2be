"""Saved conversations: create, add turns with citations, reopen from disk, delete."""

from __future__ import annotations

from pathlib import Path

from desktop_rag.core.store.conversations import TITLE_CHARS, ConversationStore, title_for
from desktop_rag.core.types import Answer, AnswerSentence, Citation


def _answer() -> Answer:
    citation = Citation(number=1, file="a.pdf", path="/docs/a.pdf", page=3, chunk_id=17, doc_id=4, text="Revenue was $5.",
                        start_offset=10, end_offset=25, page_end=3)
    return Answer(question="What was revenue?", text="Revenue was $5. The sky is green.",
                  citations=[citation],
                  sentences=[AnswerSentence("Revenue was $5.", (1,), True, 0.9),
                             AnswerSentence("The sky is green.", (), False, 0.1)],
                  timings={"total_ms": 123.456})


def test_conversation_round_trips_through_a_new_connection(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create("What was revenue?")
        store.add_question(cid, "What was revenue?")
        store.add_answer(cid, _answer())
    with ConversationStore(tmp_path) as store:  # as after a restart
        [info] = store.conversations()
        assert (info.id, info.title, info.message_count) == (cid, "What was revenue?", 2)
        question, answer = store.messages(cid)
    assert (question.role, question.text) == ("user", "What was revenue?")
    assert answer.role == "assistant" and answer.text == "Revenue was $5. The sky is green."
    assert answer.citations == tuple(_answer().citations)
    assert answer.sentences == tuple(_answer().sentences)
    assert not answer.stopped and answer.extra["timings"] == {"total_ms": 123.5}


def test_most_recent_first_and_delete_removes_messages(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        first = store.create("first")
        second = store.create("second")
        store.add_question(first, "a later question makes this one the most recent")
        assert [c.id for c in store.conversations()] == [first, second]
        store.delete(first)
        assert [c.id for c in store.conversations()] == [second]
        assert store.messages(first) == []


def test_stopped_and_failed_answers_are_kept_with_their_state(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create("q")
        stopped = _answer()
        stopped.stopped = True
        store.add_answer(cid, stopped)
        store.add_error(cid, "partial text", "the model crashed")
        a, b = store.messages(cid)
    assert a.stopped and not a.error
    assert b.text == "partial text" and b.error == "the model crashed" and b.citations == ()


def test_titles_are_one_short_line() -> None:
    assert title_for("  what\nis   this ") == "what is this"
    long = title_for("x" * 500)
    assert len(long) == TITLE_CHARS and long.endswith("…")


def test_rename(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create("old")
        store.rename(cid, "new title")
        assert store.conversation(cid).title == "new title"
