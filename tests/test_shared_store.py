"""Questions share one open store (its search index stays loaded); retiring it never pulls it from
under a question in progress."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_rag.shared_store import SharedStore


def test_questions_share_one_store(tmp_path: Path) -> None:
    questions = SharedStore(tmp_path)
    with questions.use() as first:
        pass
    with questions.use() as second:
        assert second is first and second.stats()["documents"] == 0
    questions.retire()
    with pytest.raises(sqlite3.ProgrammingError):
        first.stats()  # closed once nobody uses it


def test_retiring_waits_for_the_question_in_progress(tmp_path: Path) -> None:
    questions = SharedStore(tmp_path)
    with questions.use() as store:
        questions.retire()  # the data folder changed mid-answer
        assert store.stats()["documents"] == 0  # still open for the answer being written
    with pytest.raises(sqlite3.ProgrammingError):
        store.stats()
    with questions.use() as late:  # a question that started after: a store of its own
        assert late is not store and late.stats()["documents"] == 0
    with pytest.raises(sqlite3.ProgrammingError):
        late.stats()
