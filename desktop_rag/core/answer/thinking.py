"""Reasoning models (Qwen3, DeepSeek-R1 distills, ...) think aloud between ``<think>`` and
``</think>`` before they answer. The thinking is kept apart from the answer: the chat shows it
folded away, and quotes, citations and the unsupported-sentence check see only the answer.

:class:`ThinkingStream` splits a token stream as it arrives, holding back the end of a piece
that may be the start of a tag cut between two tokens ("<thi" + "nk>"). Some chat templates write
``<think>`` into the prompt themselves, so the model's output starts inside its thinking with no
opening tag: :mod:`~desktop_rag.core.models.reasoning` tells from the template, and
:func:`split_thinking` also reads a closing tag with no opening one as the end of thinking. Thinking that never ends (the token
limit came first) leaves no answer, and says so.
"""

from __future__ import annotations

import time
from typing import Iterable, Iterator

from desktop_rag.core.models.reasoning import CLOSE, OPEN, ThinkingMode, thinking_mode

__all__ = ["ThinkingMode", "ThinkingSplitter", "ThinkingStream", "split_thinking", "thinking_mode", "thinking_of"]

THINKING, ANSWER = "thinking", "token"  # the AnswerEvent kinds each part is streamed as
THINKING_TOKENS = 1024  # more tokens a reasoning model may write, for its thinking
THINKING_CUT_OFF = ("The model was still thinking when it reached its length limit, so it gave no answer. "
                    "Ask again, or raise the answer length (max_tokens).")


def thinking_of(chat_model: object) -> ThinkingMode:
    """The chat model's :class:`ThinkingMode`, where it tells one (llama.cpp models do)."""
    mode = getattr(chat_model, "thinking", None)
    return mode if isinstance(mode, ThinkingMode) else ThinkingMode()


def _partial_tag_at_end(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


class ThinkingSplitter:
    """Splits streamed text into thinking and answer parts, tags removed."""

    def __init__(self, starts_inside: bool = False) -> None:
        self.inside = starts_inside
        self.closed = False  # a thinking part has ended
        self._held = ""
        self._answer_started = False

    def feed(self, piece: str) -> list[tuple[str, str]]:
        """The parts of ``piece`` that are now certain, as (THINKING or ANSWER, text)."""
        text, parts = self._held + piece, []
        self._held = ""
        while text:
            tag = CLOSE if self.inside else OPEN
            at = text.find(tag)
            if at < 0:
                keep = _partial_tag_at_end(text, tag)
                self._held, text = text[len(text) - keep:], text[:len(text) - keep]
                self._emit(parts, text)
                break
            self._emit(parts, text[:at])
            self.closed = self.closed or self.inside
            self.inside, text = not self.inside, text[at + len(tag):]
        return parts

    def finish(self) -> list[tuple[str, str]]:
        """What was held back for a tag that never came."""
        parts: list[tuple[str, str]] = []
        self._emit(parts, self._held)
        self._held = ""
        return parts

    def _emit(self, parts: list[tuple[str, str]], text: str) -> None:
        if not self.inside and not self._answer_started:
            text = text.lstrip()  # "</think>\n\n" before the answer
            self._answer_started = bool(text)
        if text:
            parts.append((THINKING if self.inside else ANSWER, text))


class ThinkingStream:
    """Iterates a model's token stream as (kind, text) parts; keeps both texts, the token count
    and when the first answer text came."""

    def __init__(self, stream: Iterable[str], starts_inside: bool = False) -> None:
        self._stream, self.splitter = stream, ThinkingSplitter(starts_inside)
        self.tokens = 0
        self.thinking: list[str] = []
        self.answer: list[str] = []
        self.first_at: float | None = None  # when the first part came
        self.first_answer_at: float | None = None  # ... and the first part of the answer

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for piece in self._stream:
            self.tokens += 1
            yield from self._keep(self.splitter.feed(piece))
        yield from self._keep(self.splitter.finish())

    def _keep(self, parts: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        for kind, text in parts:
            now = time.perf_counter()
            self.first_at = self.first_at or now
            if kind == ANSWER and self.first_answer_at is None:
                self.first_answer_at = now if self.thinking else self.first_at
            (self.answer if kind == ANSWER else self.thinking).append(text)
            yield kind, text

    @property
    def answer_text(self) -> str:
        return "".join(self.answer)

    @property
    def thinking_text(self) -> str:
        return "".join(self.thinking).strip()

    @property
    def unterminated(self) -> bool:
        """It was still thinking when the stream ended."""
        return self.splitter.inside and bool(self.thinking)


def split_thinking(text: str, starts_inside: bool = False) -> tuple[str, str]:
    """(thinking, answer) of a whole output; a ``</think>`` with no ``<think>`` before it ends
    thinking that the template opened."""
    if not starts_inside and CLOSE in text and OPEN not in text[:text.find(CLOSE)]:
        starts_inside = True
    stream = ThinkingStream([text], starts_inside)
    for _ in stream:
        pass
    return stream.thinking_text, stream.answer_text
