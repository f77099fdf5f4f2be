"""The expensive models, loaded once per window and shared by every worker job.

Each job opens its own :class:`~desktop_rag.services.Services` (its own SQLite connection) but
all of them use these two objects. Neither sentence-transformers nor llama.cpp may be called
from two threads at once, so each model sits behind its own lock: indexing embeds between
questions and a question waits for the embedding batch in flight (one batch, about a second),
never for the whole ingestion. Plain Python, no Qt, so the locking can be tested on its own.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from desktop_rag.config import Settings
from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.models.chat import ChatModel, Message, never
from desktop_rag.errors import Cancelled
from desktop_rag.services import chat_model_key, embedder_key, make_chat_model, make_embedder

LOCK_POLL_S = 0.05  # how often a question waiting for the model checks Stop
TOKENIZE_PIECE_CHARS = 4000  # about 5 ms of tokenizing, during which the GUI thread cannot run


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


class SharedModels:
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

    def close(self) -> None:
        self.chat_model.close()
