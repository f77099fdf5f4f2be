"""The shared vocabulary: running a progress generator inside another operation."""

from __future__ import annotations

from typing import Generator

import pytest

from desktop_rag.core.types import DocumentStatus, Events, RetrievalMode, run_to_end


def counting(n: int, seen: list[int]) -> Generator[int, None, str]:
    for i in range(n):
        seen.append(i)
        yield i
    return f"counted {n}"


def test_run_to_end_runs_every_step_and_returns_the_result() -> None:
    seen: list[int] = []
    assert run_to_end(counting(3, seen)) == "counted 3"
    assert seen == [0, 1, 2]


def test_events_hands_out_each_event_then_holds_the_result() -> None:
    events = Events(counting(2, []))
    assert events.result is None
    assert [event * 10 for event in events] == [0, 10]
    assert events.result == "counted 2"


def test_an_error_inside_reaches_the_caller() -> None:
    def failing() -> Generator[int, None, None]:
        yield 1
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        run_to_end(failing())


def test_the_vocabulary_reads_as_plain_words() -> None:
    assert [f"{mode}" for mode in RetrievalMode] == ["dense", "keyword", "hybrid"]
    assert DocumentStatus("failed") is DocumentStatus.FAILED and DocumentStatus.INDEXED == "indexed"
