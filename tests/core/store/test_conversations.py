"""Saved conversations: create, add turns with citations and quotes, reopen from disk, delete."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from desktop_rag.core.store.conversations import TITLE_CHARS, ConversationStore, stored_from_answer, title_for
from desktop_rag.core.types import UNKNOWN_DOC_ID, Answer, AnswerSentence, Citation, Quote


def _answer() -> Answer:
    citation = Citation(number=1, file="a.pdf", path="/docs/a.pdf", page=3, chunk_id=17, doc_id=4, text="Revenue was $5.",
                        start_offset=10, end_offset=25, page_end=3)
    return Answer(question="What was revenue?", text="Revenue was $5. The sky is green.",
                  citations=[citation],
                  quotes=[Quote("Revenue was $5.", "a.pdf", "/docs/a.pdf", 3, 4, 10, 25, 1),
                          Quote("Total revenue 5 4", "b.pdf", "/docs/b.pdf", 8, 6, 100, 117, 2)],
                  sentences=[AnswerSentence("Revenue was $5.", (1,), True, 0.9),
                             AnswerSentence("The sky is green.", (), False, 0.1),
                             AnswerSentence("Costs were $700.", (1,), True, 0.8, unquoted=True)],
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
    assert [s.unquoted for s in answer.sentences] == [False, False, True]
    assert answer.citations == tuple(_answer().citations)
    assert answer.sentences == tuple(_answer().sentences)
    assert answer.quotes == tuple(_answer().quotes) and not answer.unsure
    assert not answer.stopped and answer.extra == {"timings": {"total_ms": 123.5}}


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


def test_a_new_conversation_is_titled_by_its_first_question(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create("  What was\n revenue   in 2023? " + "and more " * 20)
        [info] = store.conversations()
    assert info.id == cid and info.title == title_for("What was revenue in 2023? " + "and more " * 20)
    assert len(info.title) == TITLE_CHARS


def test_answers_saved_before_citations_kept_their_document_still_load(tmp_path: Path) -> None:
    """Earlier versions saved citations without ``doc_id`` (and a later one may add fields)."""
    with ConversationStore(tmp_path) as store:
        cid = store.create("What was revenue?")
        store.add_answer(cid, _answer())
        details = json.loads(store._db.execute("SELECT details FROM messages").fetchone()[0])
        for saved in details["citations"]:
            del saved["doc_id"]
            saved["added_by_a_later_version"] = True
        store._db.execute("UPDATE messages SET details=?", (json.dumps(details),))
    with ConversationStore(tmp_path) as store:
        [answer] = store.messages(cid)
    [citation] = answer.citations
    assert citation == dataclasses.replace(_answer().citations[0], doc_id=UNKNOWN_DOC_ID)
    assert answer.sentences == tuple(_answer().sentences)


def test_a_fresh_answer_shows_as_it_will_be_saved(tmp_path: Path) -> None:
    answer = _answer()
    shown = stored_from_answer(answer)
    with ConversationStore(tmp_path) as store:
        cid = store.create("q")
        store.add_answer(cid, answer)
        [saved] = store.messages(cid)
    assert (shown.role, shown.text, shown.sentences, shown.citations) == (saved.role, saved.text, saved.sentences,
                                                                          saved.citations)
    assert (shown.stopped, shown.found_nothing, shown.error) == (saved.stopped, saved.found_nothing, saved.error)
    assert (shown.quotes, shown.unsure) == (saved.quotes, saved.unsure) and shown.quotes


def test_an_unsure_answer_is_kept_unsure(tmp_path: Path) -> None:
    answer = dataclasses.replace(_answer(), quotes=[], unsure=True)
    with ConversationStore(tmp_path) as store:
        cid = store.create("q")
        store.add_answer(cid, answer)
        [saved] = store.messages(cid)
    assert saved.unsure and saved.quotes == ()
    assert stored_from_answer(answer).unsure


def test_answers_saved_before_quotes_were_kept_still_load(tmp_path: Path) -> None:
    """Earlier versions saved no ``quotes`` or ``unsure``; a later one may add fields to a quote."""
    with ConversationStore(tmp_path) as store:
        old, new = store.create("old"), store.create("new")
        store.add_answer(old, _answer())
        store.add_answer(new, _answer())
        rows = store._db.execute("SELECT id, details FROM messages ORDER BY id").fetchall()
        details = [json.loads(r["details"]) for r in rows]
        del details[0]["quotes"], details[0]["unsure"]
        details[1]["quotes"][0]["added_by_a_later_version"] = 1
        for row, saved in zip(rows, details, strict=True):
            store._db.execute("UPDATE messages SET details=? WHERE id=?", (json.dumps(saved), row["id"]))
    with ConversationStore(tmp_path) as store:
        [before], [after] = store.messages(old), store.messages(new)
    assert before.quotes == () and not before.unsure and "quotes" not in before.extra
    assert before.citations == tuple(_answer().citations) and before.text == _answer().text
    assert after.quotes == tuple(_answer().quotes)


def test_a_quote_becomes_a_citation_of_the_quoted_line(tmp_path: Path) -> None:
    message = stored_from_answer(_answer())
    cited = message.quote_citation(0)  # its passage [1] is cited: the citation's chunk is known
    assert (cited.number, cited.file, cited.path, cited.page, cited.page_end, cited.doc_id) == (
        1, "a.pdf", "/docs/a.pdf", 3, 3, 4)
    assert (cited.text, cited.start_offset, cited.end_offset, cited.chunk_id) == ("Revenue was $5.", 10, 25, 17)
    uncited = message.quote_citation(1)  # passage [2] was not cited: no chunk at hand
    assert (uncited.number, uncited.page, uncited.doc_id, uncited.chunk_id) == (2, 8, 6, 0)
    assert (uncited.start_offset, uncited.end_offset) == (100, 117)


def test_a_failed_answer_keeps_the_quotes_found_before_it_failed(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create("q")
        store.add_error(cid, "Revenue", "the model crashed", _answer().quotes)
        store.add_error(cid, "", "the model crashed")
        with_quotes, without = store.messages(cid)
    assert with_quotes.quotes == tuple(_answer().quotes) and with_quotes.error == "the model crashed"
    assert without.quotes == ()


def test_the_scope_an_answer_searched_is_kept_with_it(tmp_path: Path) -> None:
    answer = Answer("What?", "It was 5.", sentences=[AnswerSentence("It was 5.", (), True)])
    with ConversationStore(tmp_path) as store:
        conversation = store.create("What?")
        store.add_answer(conversation, answer, scope="Quarterly reports")
        store.add_answer(conversation, answer)
    with ConversationStore(tmp_path) as store:
        scoped, everything = store.messages(conversation)
    assert scoped.extra["scope"] == "Quarterly reports" and "scope" not in everything.extra
    assert stored_from_answer(answer, "Quarterly reports").extra == {"scope": "Quarterly reports"}


def test_a_reasoning_models_thinking_is_kept_apart_from_its_answer(tmp_path: Path) -> None:
    answer = Answer("What?", "It was 5.", sentences=[AnswerSentence("It was 5.", (), True)],
                    thinking="The table says 5 in the first column.")
    with ConversationStore(tmp_path) as store:
        conversation = store.create("What?")
        store.add_answer(conversation, answer, scope="Reports")
        store.add_answer(conversation, dataclasses.replace(answer, thinking=""))
    with ConversationStore(tmp_path) as store:
        thought, plain = store.messages(conversation)
    assert thought.text == "It was 5."
    assert (thought.extra["scope"], thought.extra["thinking"]) == ("Reports", "The table says 5 in the first column.")
    assert "thinking" not in plain.extra
    assert stored_from_answer(answer).extra == {"thinking": "The table says 5 in the first column."}
