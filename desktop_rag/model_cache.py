"""The expensive models, loaded once per window and shared by every job the window runs.

Each job opens its own :class:`~desktop_rag.services.Services` (its own SQLite connection) but
all of them use these two objects. Neither sentence-transformers nor llama.cpp may be called
from two threads at once, so each model sits behind its own lock: indexing embeds between
questions and a question waits for the embedding batch in flight (one batch, about a second),
never for the whole ingestion. Plain Python, no Qt, so the locking can be tested on its own.

Beside the locks, :class:`AnswerPause` keeps the CPU for the answer: while a question is being
answered, indexing waits at its next cancel point (after the embedding batch in flight), and
carries on when the answer is done. On a 2-core machine the two together left the answer a
fraction of its speed; paused, it runs as if alone.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Generator, Iterator, Sequence

import numpy as np

from desktop_rag.config import Settings
from desktop_rag.core.models.chat import ChatModel, Message, never
from desktop_rag.core.models.embedder import Embedder
from desktop_rag.errors import Cancelled
from desktop_rag.services import chat_model_key, embedder_key, make_chat_model, make_embedder

LOCK_POLL_S = 0.05  # how often a question waiting for the model checks Stop
TOKENIZE_PIECE_CHARS = 4000  # about 5 ms of tokenizing, during which the GUI thread cannot run

EMBEDDER, LLM = "embedder", "llm"  # the two models, as :class:`ModelEvent` names them


class ModelState(str, Enum):
    NOT_LOADED = "not loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ModelEvent:
    """Progress of :meth:`ModelCache.load`: ``detail`` is "name (seconds)" when ready, the message
    when failed (``error`` is then the exception, for the notification manager)."""

    model: str
    state: ModelState
    detail: str = ""
    error: BaseException | None = None


def whitespace_pieces(text: str, size: int) -> list[tuple[int, int]]:
    """Consecutive [start, end) ranges of at most about ``size`` characters, each cut just after a
    space or line break, so no token (which never spans whitespace) is cut in two."""
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            end = cut + 1 if cut > start else end
        pieces.append((start, end))
        start = end
    return pieces


class LockedEmbedder:
    """An :class:`Embedder` whose every call holds one lock."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.lock = threading.RLock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        with self.lock:
            return self.inner.dimension

    @property
    def max_tokens(self) -> int:
        with self.lock:
            return self.inner.max_tokens

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Token spans of ``text``, tokenized a few thousand characters at a time.

        Hugging Face's ``encode`` holds the GIL throughout: a whole 10-Q in one call froze the
        GUI thread for about 150 ms. The word-piece tokenizers we use split at whitespace first,
        so pieces cut at whitespace give the same tokens; between pieces the GUI thread runs.
        """
        spans: list[tuple[int, int]] = []
        for start, end in whitespace_pieces(text, TOKENIZE_PIECE_CHARS):
            with self.lock:
                piece = self.inner.token_offsets(text[start:end])
            spans.extend((s + start, e + start) for s, e in piece)
        return spans

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self.lock:
            return self.inner.embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Passages to store, through the inner embedder's faster path where it has one (ONNX int8)."""
        with self.lock:
            return getattr(self.inner, "embed_documents", self.inner.embed)(texts)

    def load(self) -> None:
        """Load the model now (asking its dimension loads it)."""
        with self.lock:
            _ = self.inner.dimension


class LockedChatModel:
    """A :class:`ChatModel` whose calls hold one lock; a stream holds it until it ends."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.lock = threading.RLock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_size(self) -> int:
        return self.inner.context_size

    @property
    def offload(self) -> Any:
        return getattr(self.inner, "offload", None)

    @property
    def thinking(self) -> Any:
        """The inner model's ThinkingMode (``<think>`` tags), if it tells one."""
        return getattr(self.inner, "thinking", None)

    def count_tokens(self, text: str) -> int:
        with self.lock:
            return self.inner.count_tokens(text)

    def _acquire(self, should_stop: Callable[[], bool]) -> None:
        while not self.lock.acquire(timeout=LOCK_POLL_S):
            if should_stop():
                raise Cancelled("stopped while waiting for the language model")

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
                    should_stop: Callable[[], bool] = never) -> Iterator[str]:
        self._acquire(should_stop)
        try:
            yield from self.inner.stream_chat(messages, max_tokens=max_tokens, temperature=temperature,
                                              should_stop=should_stop)
        finally:
            self.lock.release()

    def load(self) -> None:
        load = getattr(self.inner, "load", None)
        with self.lock:
            if load is not None:
                load()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        with self.lock:
            if close is not None:
                close()


class AnswerPause:
    """Background work waits at its cancel points while any answer runs; thread-safe.

    An answer job holds it (:meth:`held`) from its first step to its last; indexing passes its
    stop check through :meth:`gated`, which waits there while any answer holds it (Stop still
    ends the wait at once).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._answers = 0
        self.waiting = 0  # callers waiting it out now (for the status shown, and for tests)

    @property
    def active(self) -> bool:
        """Whether an answer holds the pause now."""
        return self._answers > 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._changed:
            self._answers += 1
        try:
            yield
        finally:
            with self._changed:
                self._answers -= 1
                self._changed.notify_all()

    def wait(self, should_stop: Callable[[], bool] = never) -> None:
        """Return when no answer holds the pause, or as soon as ``should_stop()``."""
        with self._changed:
            if not self._answers:
                return
            self.waiting += 1
            try:
                while self._answers and not should_stop():
                    self._changed.wait(LOCK_POLL_S)
            finally:
                self.waiting -= 1

    def gated(self, should_stop: Callable[[], bool]) -> Callable[[], bool]:
        """``should_stop`` that first waits out any answer: background work's cancel check."""
        def check() -> bool:
            self.wait(should_stop)
            return should_stop()

        return check


class ModelCache:
    """The embedder and chat model for the current settings, created on demand.

    ``embedder_factory`` and ``chat_model_factory`` build the unloaded models from settings
    (tests pass small fakes); :meth:`update` swaps in new ones when model settings change.
    """

    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[Settings], Embedder] | None = None,
        chat_model_factory: Callable[[Settings], ChatModel] | None = None,
    ) -> None:
        embedder_factory = embedder_factory or make_embedder
        chat_model_factory = chat_model_factory or make_chat_model
        self._make_embedder, self._make_chat_model = embedder_factory, chat_model_factory
        self.settings = settings
        self.embedder = LockedEmbedder(embedder_factory(settings))
        self.chat_model = LockedChatModel(chat_model_factory(settings))
        self.answering = AnswerPause()  # held by each answer; indexing waits on it
        self.gpu_offload_available: bool | None = None  # known once the chat model has been loaded

    def update(self, settings: Settings) -> tuple[bool, bool]:
        """Use ``settings``; returns (embedder replaced, chat model replaced).

        A replaced chat model is closed once the job using it (if any) lets go of it.
        """
        old, self.settings = self.settings, settings
        new_embedder = embedder_key(old) != embedder_key(settings)
        new_llm = chat_model_key(old) != chat_model_key(settings)
        if new_embedder:
            self.embedder = LockedEmbedder(self._make_embedder(settings))
        if new_llm:
            previous, self.chat_model = self.chat_model, LockedChatModel(self._make_chat_model(settings))
            threading.Thread(target=previous.close, name="close-old-llm", daemon=True).start()
        return new_embedder, new_llm

    def renew_embedder(self) -> None:
        """A new embedder for the same settings: the library's model changed (adapted to its documents,
        or returned to the original; see core/tune), which the settings do not show."""
        self.embedder = LockedEmbedder(self._make_embedder(self.settings))

    def load(self, which: Sequence[str] = (EMBEDDER, LLM),
             should_stop: Callable[[], bool] = never) -> Generator[ModelEvent, None, None]:
        """Load the models named in ``which``; a failure is yielded (the other model still loads)."""
        for name in which:
            if should_stop():
                return
            yield ModelEvent(name, ModelState.LOADING)
            yield self._load_one(name)
        if LLM in which:
            from desktop_rag.core.models.llama_cpp import gpu_offload_supported

            self.gpu_offload_available = gpu_offload_supported()

    def _load_one(self, name: str) -> ModelEvent:
        model: LockedEmbedder | LockedChatModel = self.embedder if name == EMBEDDER else self.chat_model
        started = time.perf_counter()
        try:
            model.load()
        except Exception as exc:  # noqa: BLE001 - yielded, and reported by the window
            return ModelEvent(name, ModelState.FAILED, str(exc), exc)
        if name == EMBEDDER:
            # Importing an extension module holds the GIL (faiss: about 0.2 s); do it now, while
            # models load anyway, rather than as the first document is indexed.
            import faiss  # noqa: F401
        label = model.model_id if isinstance(model, LockedEmbedder) else model.name
        return ModelEvent(name, ModelState.READY, f"{label} ({time.perf_counter() - started:.1f} s)")

    def close(self) -> None:
        self.chat_model.close()
