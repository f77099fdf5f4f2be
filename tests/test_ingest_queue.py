"""The window's ingestion queue, without Qt: batches, re-index first, cancel, errors, resume."""

from __future__ import annotations

from desktop_rag.core.types import IngestProgress, Stage
from desktop_rag.ingest_queue import Batch, IngestQueue


def progress(path: str, stage: Stage) -> IngestProgress:
    return IngestProgress(path, stage, 0, 1)


def test_one_batch_at_a_time_and_files_queued_meanwhile_come_next() -> None:
    queue = IngestQueue()
    assert queue.add(["a", "b"]) == ["a", "b"]
    assert queue.next_batch() == Batch(("a", "b"), replace=False)
    assert queue.running
    assert queue.add(["b", "c"]) == ["c"]  # b is being indexed already
    assert queue.next_batch() is None  # one batch at a time
    queue.end_batch()
    assert queue.next_batch() == Batch(("c",), replace=False)
    queue.end_batch()
    assert queue.next_batch() is None and not queue.running


def test_files_to_reindex_form_their_own_batch_and_go_first() -> None:
    queue = IngestQueue()
    queue.add(["new1"])
    queue.add(["old1", "old2"], replace=True)
    queue.add(["new2"])
    assert queue.next_batch() == Batch(("old1", "old2"), replace=True)
    queue.end_batch()
    assert queue.next_batch() == Batch(("new1", "new2"), replace=False)


def test_finished_files_are_recorded_and_a_cancelled_one_is_still_to_do() -> None:
    queue = IngestQueue()
    queue.add(["a", "b", "c"])
    queue.next_batch()
    assert not queue.record(progress("a", Stage.EMBEDDING))
    assert queue.record(progress("a", Stage.INDEXED))
    assert not queue.record(progress("b", Stage.CANCELLED))
    assert queue.unfinished_in_batch() == ["b", "c"]
    queue.add(["a"])  # done: may be queued again
    assert queue.unfinished == ["b", "c", "a"]


def test_cancel_drops_the_waiting_files_only() -> None:
    queue = IngestQueue()
    queue.add(["a"])
    queue.next_batch()
    queue.add(["b", "c"], replace=True)
    assert queue.cancel() == ["b", "c"]
    assert queue.unfinished == ["a"]
    queue.end_batch()
    assert queue.next_batch() is None and queue.unfinished == []


def test_a_batch_that_fails_gives_up_its_unfinished_files() -> None:
    queue = IngestQueue()
    queue.add(["a", "b"])
    queue.next_batch()
    queue.record(progress("a", Stage.FAILED))
    assert queue.give_up_batch() == ["b"]
    assert queue.unfinished == []


def test_closing_starts_nothing_and_keeps_the_unfinished_files_for_the_next_start() -> None:
    queue = IngestQueue()
    queue.add(["a", "b"])
    queue.next_batch()
    queue.add(["c"])
    queue.record(progress("a", Stage.INDEXED))
    queue.close()
    queue.end_batch()
    assert queue.next_batch() is None
    assert queue.unfinished == ["b", "c"]
