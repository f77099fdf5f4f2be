"""Saved conversations: questions and answers (with their citations) in SQLite. No Qt here.

Conversations live in their own database file beside the library (``conversations.sqlite3`` in
the data directory), so chatting never contends with ingestion for the library's write lock,
and removing a document never rewrites history: an old answer keeps the passages it cited.
Each message is one row; an answer's sentences, citations and quotes are stored as JSON next to its
text. Messages saved by earlier versions lack some keys (quotes, a citation's ``doc_id``): they
load with the defaults, and keys a later version adds are ignored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

from desktop_rag.core.store.opening import can_write, connect_read_only
from desktop_rag.core.types import UNKNOWN_DOC_ID, Answer, AnswerSentence, Citation, Quote
from desktop_rag.errors import StoreError, StoreWriteError

DB_NAME = "conversations.sqlite3"
TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation_id, id);
"""


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: int
    title: str
    created_at: float
    updated_at: float
    message_count: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One turn. For answers, ``sentences``, ``citations`` and ``quotes`` are what the user saw;
    ``unsure``: passages were found but none of their lines answers well (so no quotes)."""

    id: int
    role: str
    text: str
    created_at: float
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    stopped: bool = False
    found_nothing: bool = False
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    quotes: tuple[Quote, ...] = ()
    unsure: bool = False

    def quote_citation(self, i: int) -> Citation:
        """Quote ``i`` as a citation of its page (see :func:`quote_citation`)."""
        return quote_citation(self.quotes[i], self.citations)


def quote_citation(q: Quote, citations: Sequence[Citation]) -> Citation:
    """The quote as a citation of its page, highlighting the quote alone, numbered as its passage;
    the passage's chunk is taken from ``citations`` (of passages) when one is that passage, else 0."""
    chunk_id = next((c.chunk_id for c in citations if c.number == q.passage), 0)
    return Citation(number=q.passage, file=q.file, path=q.path, page=q.page, chunk_id=chunk_id, text=q.text,
                    start_offset=q.start_offset, end_offset=q.end_offset, page_end=q.page, doc_id=q.doc_id,
                    label=q.label)


def title_for(question: str) -> str:
    """A one-line title from the first question."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def answer_details(answer: Answer, scope: str = "") -> dict[str, Any]:
    """What is saved beside an answer's text; ``scope`` names the collection or documents it
    searched (kept only when it did not search everything)."""
    details = {
        "sentences": [asdict(s) for s in answer.sentences],
        "citations": [asdict(c) for c in answer.citations],
        "quotes": [asdict(q) for q in answer.quotes],
        "unsure": answer.unsure,
        "stopped": answer.stopped,
        "found_nothing": answer.found_nothing,
        "timings": {k: round(v, 1) for k, v in answer.timings.items()},
    }
    return {**details, **_extra(answer, scope)}


def _extra(answer: Answer, scope: str) -> dict[str, Any]:
    """What the chat shows beside the answer: the scope it searched (when not everything), and a
    reasoning model's thinking (folded)."""
    extra: dict[str, Any] = {"scope": scope} if scope else {}
    return {**extra, "thinking": answer.thinking} if answer.thinking else extra


def stored_from_answer(answer: Answer, scope: str = "") -> StoredMessage:
    """A fresh answer as the message it becomes once saved (no id yet), to show it the same way."""
    return StoredMessage(0, "assistant", answer.text, time.time(), tuple(answer.sentences),
                         tuple(answer.citations), answer.stopped, answer.found_nothing,
                         extra=_extra(answer, scope), quotes=tuple(answer.quotes), unsure=answer.unsure)


_CITATION_FIELDS = frozenset(f.name for f in fields(Citation))
_QUOTE_FIELDS = frozenset(f.name for f in fields(Quote))


def _citation(saved: dict[str, Any]) -> Citation:
    """A citation as saved by this or an earlier version: those kept no ``doc_id`` (it reads
    :data:`~desktop_rag.core.types.UNKNOWN_DOC_ID`); keys this version does not know are ignored."""
    known = {k: v for k, v in saved.items() if k in _CITATION_FIELDS}
    return Citation(**{"doc_id": UNKNOWN_DOC_ID, **known})


def _quote(saved: dict[str, Any]) -> Quote:
    """A quote as saved; keys this version does not know are ignored."""
    return Quote(**{k: v for k, v in saved.items() if k in _QUOTE_FIELDS})


def _message(row: sqlite3.Row) -> StoredMessage:
    details = json.loads(row["details"] or "{}")
    sentences = tuple(AnswerSentence(s["text"], tuple(s["citations"]), bool(s["supported"]), float(s["score"]),
                                     bool(s.get("unquoted", False)))  # not saved by earlier versions
                      for s in details.get("sentences", []))
    citations = tuple(_citation(c) for c in details.get("citations", []))
    quotes = tuple(_quote(q) for q in details.get("quotes", []))
    known = {"sentences", "citations", "quotes", "unsure", "stopped", "found_nothing", "error"}
    return StoredMessage(row["id"], row["role"], row["text"], row["created_at"], sentences, citations,
                         bool(details.get("stopped")), bool(details.get("found_nothing")),
                         str(details.get("error", "")), {k: v for k, v in details.items() if k not in known},
                         quotes, bool(details.get("unsure")))


class ConversationStore:
    """Conversations of one data directory. One instance per thread (sqlite3 connections are not shared)."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        """Open the history of ``data_dir``. In a folder that cannot be written (a library opened
        for reading only), the saved conversations are read into memory and the new ones live
        there until the window closes: ``saved`` is False."""
        self.path = Path(data_dir) / DB_NAME
        try:
            self.saved = can_write(self.path.parent, self.path, None)
            self._db = sqlite3.connect(self.path if self.saved else ":memory:", isolation_level=None)
            if not self.saved and self.path.exists():
                with closing(connect_read_only(self.path)) as on_disk:
                    on_disk.backup(self._db)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"the conversation history {self.path} cannot be opened: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ConversationStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise StoreWriteError(f"cannot save the conversation in {self.path}: {exc}") from exc

    def create(self, title: str) -> int:
        now = time.time()
        cur = self._write("INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
                          (title_for(title) or "New chat", now, now))
        return int(cur.lastrowid)

    def conversations(self) -> list[ConversationInfo]:
        """Most recently used first."""
        rows = self._db.execute(
            "SELECT c.id, c.title, c.created_at, c.updated_at, "
            "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS n "
            "FROM conversations c ORDER BY c.updated_at DESC, c.id DESC"
        ).fetchall()
        return [ConversationInfo(r["id"], r["title"], r["created_at"], r["updated_at"], r["n"]) for r in rows]

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT id, role, text, details, created_at FROM messages WHERE conversation_id=? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [_message(r) for r in rows]

    def add_question(self, conversation_id: int, question: str) -> int:
        return self._add(conversation_id, "user", question, {})

    def add_answer(self, conversation_id: int, answer: Answer, scope: str = "") -> int:
        return self._add(conversation_id, "assistant", answer.text, answer_details(answer, scope))

    def add_error(self, conversation_id: int, text: str, error: str, quotes: Sequence[Quote] = ()) -> int:
        """An answer that failed; what was streamed so far is kept with the reason, and the
        quotes found before it failed (they came from the documents, not from the model)."""
        details: dict[str, Any] = {"error": error}
        if quotes:
            details["quotes"] = [asdict(q) for q in quotes]
        return self._add(conversation_id, "assistant", text, details)

    def _add(self, conversation_id: int, role: str, text: str, details: dict[str, Any]) -> int:
        now = time.time()
        self._write("BEGIN IMMEDIATE")
        try:
            cur = self._write(
                "INSERT INTO messages(conversation_id, role, text, details, created_at) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, role, text, json.dumps(details), now),
            )
            self._write("UPDATE conversations SET updated_at=? WHERE id=?", (now, conversation_id))
            self._write("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return int(cur.lastrowid)

    def delete(self, conversation_id: int) -> None:
        self._write("DELETE FROM conversations WHERE id=?", (conversation_id,))
