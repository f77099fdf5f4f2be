"""Indexing waits while a question is answered and carries on afterwards (the jobs layer, no Qt)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from desktop_rag import jobs
from desktop_rag.config import Settings
from desktop_rag.core.models.chat import never
from desktop_rag.core.search.scope import EVERYTHING
from desktop_rag.core.types import Events, Stage, run_to_end
from desktop_rag.ingest_queue import Batch
from desktop_rag.model_cache import AnswerPause, ModelCache
from desktop_rag.shared_store import SharedStore
from fakes import HashEmbedder, StreamingChatModel
from pdfs import write_pdf

PAGES = ["Quarterly report of the Widget Company. Widget revenue was 42 million dollars in the third quarter."]
REPLY = "Widget revenue was 42 million dollars in the third quarter."
GUARD_S = 30  # only a failure ever waits this long


def _until(condition: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(GUARD_S * 100):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("timed out")


def _models(tmp_path: Path, chat: Any = None) -> tuple[Settings, ModelCache]:
    settings = Settings(data_dir=str(tmp_path / "data"))
    return settings, ModelCache(settings, embedder_factory=lambda _s: HashEmbedder(),
                                chat_model_factory=lambda _s: chat or StreamingChatModel(REPLY))


def _ingest_in_thread(settings: Settings, models: ModelCache, pdf: str,
                      should_stop: Callable[[], bool] = never) -> tuple[list[Stage], dict, threading.Thread]:
    stages: list[Stage] = []
    result: dict = {}

    def run() -> None:
        events = Events(jobs.ingest(settings, models, Batch((pdf,), replace=False), {}, should_stop))
        for event in events:
            stages.append(event.stage)
        result["report"] = events.result

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stages, result, thread


def test_indexing_waits_while_an_answer_holds_the_pause_and_then_finishes(tmp_path: Path) -> None:
    settings, models = _models(tmp_path)
    pdf = str(write_pdf(tmp_path / "widgets.pdf", PAGES))
    with models.answering.held():
        stages, result, thread = _ingest_in_thread(settings, models, pdf)
        _until(lambda: models.answering.waiting == 1)
        assert stages == [Stage.HASHING] and "report" not in result  # held at its first cancel point
    thread.join(GUARD_S)
    assert [o.stage for o in result["report"].outcomes] == [Stage.INDEXED]
    assert Stage.EMBEDDING in stages and models.answering.waiting == 0


def test_stop_ends_the_wait_at_once(tmp_path: Path) -> None:
    settings, models = _models(tmp_path)
    pdf = str(write_pdf(tmp_path / "widgets.pdf", PAGES))
    stop = threading.Event()
    with models.answering.held():
        _stages, result, thread = _ingest_in_thread(settings, models, pdf, stop.is_set)
        _until(lambda: models.answering.waiting == 1)
        stop.set()
        thread.join(GUARD_S)
        assert result["report"].cancelled and not thread.is_alive()


class _PauseObserver(StreamingChatModel):
    """Notes whether indexing was paused while the answer was written."""

    def __init__(self, pause_of: Callable[[], AnswerPause]) -> None:
        super().__init__(REPLY)
        self.pause_of, self.paused_while_writing = pause_of, None

    def stream_chat(self, messages, **kwargs):  # noqa: ANN001, ANN003, ANN201
        self.paused_while_writing = self.pause_of().active
        yield from super().stream_chat(messages, **kwargs)


def test_an_answer_holds_the_pause_from_start_to_end(tmp_path: Path) -> None:
    holder: dict = {}
    chat = _PauseObserver(lambda: holder["models"].answering)
    settings, models = _models(tmp_path, chat)
    holder["models"] = models
    pdf = str(write_pdf(tmp_path / "widgets.pdf", PAGES))
    run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=False), {}, never))
    shared = SharedStore(settings.data_path)
    try:
        answer = run_to_end(jobs.answer(settings, models, shared, "How much was widget revenue?", EVERYTHING, never))
    finally:
        shared.retire()
    assert answer.text and chat.paused_while_writing is True
    assert not models.answering.active  # given back


def test_two_answers_at_once_release_only_when_both_are_done() -> None:
    pause = AnswerPause()
    first, second = pause.held(), pause.held()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert pause.active
    second.__exit__(None, None, None)
    assert not pause.active
    pause.wait()  # returns at once: nothing holds it
