"""The chat-model protocol every backend implements (llama.cpp, OpenAI-compatible servers)."""

from __future__ import annotations

from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

Message = dict[str, str]


def never() -> bool:
    return False


@runtime_checkable
class ChatModel(Protocol):
    """A chat model that streams text pieces for a list of messages."""

    @property
    def name(self) -> str: ...

    @property
    def context_size(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool] = never,
    ) -> Iterator[str]: ...
