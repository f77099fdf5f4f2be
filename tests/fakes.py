"""Small, deterministic stand-ins for the heavy models (unit tests only)."""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


class HashEmbedder:
    """Bag-of-words vectors from hashed lower-case words; one token per word or punctuation mark.

    Texts sharing words get similar vectors, so retrieval behaves sensibly in tests.
    """

    def __init__(self, dimension: int = 64, max_tokens: int = 254, model_id: str = "hash-embedder") -> None:
        self._dimension, self._max_tokens, self._model_id = dimension, max_tokens, model_id
        self.embedded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self._dimension
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


class StreamingChatModel:
    """A ChatModel that streams a fixed reply word by word, or forever (``endless``) until stopped.

    ``delay_s`` between pieces makes the stream slow enough for a test to press Stop mid-answer;
    ``streamed`` counts the pieces handed out, so a test can see the stream really stopped.
    """

    def __init__(self, reply: str = "The answer is in the documents.", *, delay_s: float = 0.0,
                 endless: bool = False, context_size: int = 4096, name: str = "fake-chat") -> None:
        self.reply, self.delay_s, self.endless = reply, delay_s, endless
        self._context_size, self._name = context_size, name
        self.streamed = 0
        self.prompts: list[list[dict[str, str]]] = []
        self.loaded = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_size(self) -> int:
        return self._context_size

    def load(self) -> None:
        self.loaded = True

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def stream_chat(self, messages, *, max_tokens, temperature, should_stop=lambda: False):  # noqa: ANN001, ANN201
        import time

        from desktop_rag.errors import Cancelled

        self.prompts.append([dict(m) for m in messages])
        pieces = re.findall(r"\S+\s*", self.reply)
        index = 0
        while self.endless or index < len(pieces):
            if should_stop():
                raise Cancelled("generation stopped")
            if self.delay_s:
                time.sleep(self.delay_s)
            self.streamed += 1
            yield pieces[index % len(pieces)]
            index += 1
