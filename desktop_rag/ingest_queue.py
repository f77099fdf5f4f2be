"""The window's ingestion queue: files waiting, the batch being indexed, and which of its files
are done. Plain Python, no Qt: the engine feeds it what the user and the ingestion worker do,
and asks it what to index next and what is left.

One batch runs at a time. Files to re-index form a batch of their own and go first: their stored
copy is removed before they are indexed again (or ingestion would skip them as unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from desktop_rag.core.types import IngestProgress, Stage


@dataclass(frozen=True, slots=True)
class Batch:
    paths: tuple[str, ...]
    replace: bool  # re-index: remove the stored copies first


class IngestQueue:
    def __init__(self) -> None:
        self._waiting: list[str] = []
        self._replace: set[str] = set()  # waiting files to re-index
        self._batch: tuple[str, ...] = ()
        self._done: set[str] = set()  # files of the batch that are finished
        self.running = False  # a batch is being indexed
        self.closed = False  # the window is closing: start nothing, keep what is unfinished

    def add(self, files: Sequence[str], *, replace: bool = False) -> list[str]:
        """Queue ``files``; returns those not already waiting or being indexed."""
        busy = set(self._waiting) | set(self.unfinished_in_batch())
        new = [f for f in dict.fromkeys(files) if f not in busy]
        if replace:
            self._replace.update(new)
        self._waiting.extend(new)
        return new

    def next_batch(self) -> Batch | None:
        """The files to index now, or None (a batch is running, nothing waits, or closing)."""
        if self.running or not self._waiting or self.closed:
            return None
        replace = [p for p in self._waiting if p in self._replace]
        batch = replace or [p for p in self._waiting if p not in self._replace]
        taken = set(batch)
        self._waiting = [p for p in self._waiting if p not in taken]
        self._replace -= taken
        self._batch, self._done, self.running = tuple(batch), set(), True
        return Batch(self._batch, bool(replace))

    def record(self, event: IngestProgress) -> bool:
        """Note a progress event of the batch; True when it finished a file (a file cancelled
        mid-way is not finished: it is still to do)."""
        finished = event.is_final and event.stage != Stage.CANCELLED
        if finished:
            self._done.add(event.path)
        return finished

    def unfinished_in_batch(self) -> list[str]:
        return [p for p in self._batch if p not in self._done]

    def give_up_batch(self) -> list[str]:
        """The batch stopped on an error: its unfinished files will not be indexed; returns them."""
        unfinished = self.unfinished_in_batch()
        self._done.update(unfinished)
        return unfinished

    def end_batch(self) -> None:
        self.running = False
        if not self.closed:  # at exit, the unfinished files are kept for the next start
            self._batch = ()

    def cancel(self) -> list[str]:
        """Forget the waiting files (not the batch, which stops by itself); returns them."""
        dropped, self._waiting = self._waiting, []
        self._replace.clear()
        return dropped

    def close(self) -> None:
        self.closed = True

    @property
    def unfinished(self) -> list[str]:
        """Files of the batch not done, then the waiting ones: what a restart should offer to resume."""
        return self.unfinished_in_batch() + list(self._waiting)
