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
