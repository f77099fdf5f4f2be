"""The models shared by the window's jobs: one caller at a time, and tokenizing in GUI-friendly pieces."""

from __future__ import annotations

import threading
import time
from typing import Sequence

from desktop_rag.config import Settings
from desktop_rag.errors import Cancelled
from desktop_rag.model_cache import (
    EMBEDDER,
    LLM,
    LockedChatModel,
    LockedEmbedder,
    ModelCache,
    ModelState,
    whitespace_pieces,
)
from fakes import HashEmbedder, StreamingChatModel


def test_whitespace_pieces_cover_the_text_and_cut_only_after_whitespace() -> None:
    text = ("word " * 30 + "\n") * 40 + "unbroken" * 100
    pieces = whitespace_pieces(text, 100)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    words_end = text.index("unbroken")
    assert all(text[end - 1] in " \n" for _, end in pieces if end <= words_end)
    assert max(end - start for start, end in pieces[:-1]) <= 100


def test_token_offsets_in_pieces_equal_one_call_on_the_whole_text() -> None:
    inner = HashEmbedder()
    text = " ".join(f"Revenue({i}) was ${i},000; costs rose." for i in range(3000))
    assert len(text) > 20_000
    assert LockedEmbedder(inner).token_offsets(text) == inner.token_offsets(text)


class _OverlapDetector(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.overlapped = False

    def embed(self, texts: Sequence[str]):  # noqa: ANN201
        self.active += 1
        self.overlapped |= self.active > 1
        time.sleep(0.002)
        self.active -= 1
        return super().embed(texts)


def test_the_embedder_is_never_called_from_two_threads_at_once() -> None:
    inner = _OverlapDetector()
    locked = LockedEmbedder(inner)
    threads = [threading.Thread(target=lambda: [locked.embed(["a b c"]) for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not inner.overlapped and len(inner.embedded) == 80


def test_a_question_waiting_for_the_busy_model_can_be_stopped() -> None:
    model = LockedChatModel(StreamingChatModel("a b c"))
    holder = threading.Thread(target=lambda: (model.lock.acquire(), time.sleep(0.5), model.lock.release()))
    holder.start()
    time.sleep(0.05)
    try:
        list(model.stream_chat([], max_tokens=5, temperature=0, should_stop=lambda: True))
        raise AssertionError("should have stopped")
    except Cancelled:
        pass
    holder.join()
    assert list(model.stream_chat([], max_tokens=5, temperature=0)) == ["a ", "b ", "c"]


def test_changing_model_settings_swaps_only_the_models_concerned() -> None:
    made: list[str] = []
    models = ModelCache(Settings(), embedder_factory=lambda s: made.append("e") or HashEmbedder(),
                          chat_model_factory=lambda s: made.append("c") or StreamingChatModel())
    assert models.update(Settings(temperature=0.5)) == (False, False)
    assert models.update(Settings(temperature=0.5, n_ctx=2048)) == (False, True)
    assert models.update(Settings(temperature=0.5, n_ctx=2048, embedding_model="/m")) == (True, False)
    assert made == ["e", "c", "c", "e"]


class _BrokenEmbedder(HashEmbedder):
    @property
    def dimension(self) -> int:
        raise RuntimeError("no such model")


def test_loading_reports_each_model_and_a_failure_does_not_stop_the_other() -> None:
    models = ModelCache(Settings(), embedder_factory=lambda s: _BrokenEmbedder(),
                        chat_model_factory=lambda s: StreamingChatModel(name="tiny"))
    events = list(models.load())
    assert [(e.model, e.state) for e in events] == [(EMBEDDER, ModelState.LOADING), (EMBEDDER, ModelState.FAILED),
                                                    (LLM, ModelState.LOADING), (LLM, ModelState.READY)]
    failed, ready = events[1], events[3]
    assert isinstance(failed.error, RuntimeError) and failed.detail == "no such model"
    assert ready.detail.startswith("tiny (") and ready.error is None
    assert models.chat_model.inner.loaded
    assert models.gpu_offload_available in (True, False)  # asked once the language model was loaded


def test_loading_stops_between_models() -> None:
    models = ModelCache(Settings(), embedder_factory=lambda s: HashEmbedder(),
                        chat_model_factory=lambda s: StreamingChatModel())
    asked = iter([False, True])
    events = list(models.load((EMBEDDER, LLM), should_stop=lambda: next(asked)))
    assert [e.model for e in events] == [EMBEDDER, EMBEDDER]
    assert not models.chat_model.inner.loaded
