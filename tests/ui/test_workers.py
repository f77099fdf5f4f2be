"""The one way to run a job off the GUI thread: signals in order, every error reported exactly
once, and one ending for a stopped job (``aborted``, never ``returned`` or ``errored``)."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import pytest

from gui_helpers import WAIT_MS
from desktop_rag.errors import Cancelled
from desktop_rag.ui.workers import WorkerPool

OUTCOMES = ("started", "yielded", "returned", "aborted", "finished")


@pytest.fixture
def pool(qtbot) -> Iterator[WorkerPool]:  # noqa: ANN001 - qtbot makes the QApplication
    reported: list[tuple[BaseException, str]] = []
    pool = WorkerPool(lambda exc, name: reported.append((exc, name)))
    pool.reported = reported  # type: ignore[attr-defined]
    yield pool
    pool.quit_all()
    assert pool.wait_for_done(WAIT_MS)


def start(qtbot, pool: WorkerPool, job: Callable[..., Any], **slots: Any) -> tuple[Any, list[tuple]]:  # noqa: ANN001
    """Start ``job`` with every signal recorded (and ``slots`` for the others)."""
    seen: list[tuple] = []
    recorders = {name: (lambda *args, name=name: seen.append((name, *args))) for name in OUTCOMES}
    worker = pool.start(job, "Test job", **{**recorders, **slots})
    return worker, seen


def wait_finished(qtbot, seen: list[tuple]) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "finished", timeout=WAIT_MS)
    qtbot.wait(50)  # anything emitted after "finished" would arrive now


def until_stopped(should_stop: Callable[[], bool]) -> Iterator[int]:
    i = 0
    while not should_stop():
        yield i
        i += 1
        time.sleep(0.005)


def test_signals_come_in_order_and_the_result_is_returned(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        yield 1
        yield 2
        return "done"

    _, seen = start(qtbot, pool, job)
    wait_finished(qtbot, seen)
    assert seen == [("started",), ("yielded", 1), ("yielded", 2), ("returned", "done"), ("finished",)]
    assert pool.reported == [] and pool.running == []


def test_an_error_with_no_slot_goes_to_the_notification_manager_once(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        yield 1
        raise ZeroDivisionError("a bug")

    _, seen = start(qtbot, pool, job)
    wait_finished(qtbot, seen)
    assert [(type(exc), name) for exc, name in pool.reported] == [(ZeroDivisionError, "Test job")]
    assert [s[0] for s in seen] == ["started", "yielded", "finished"]


def test_an_error_with_a_slot_goes_to_that_slot_only(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        raise ZeroDivisionError("a bug")
        yield  # a generator

    errors: list[BaseException] = []
    _, seen = start(qtbot, pool, job, errored=errors.append)
    wait_finished(qtbot, seen)
    assert [type(e) for e in errors] == [ZeroDivisionError]
    assert pool.reported == []


def test_a_stopped_job_is_aborted_with_what_it_returned(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        yield from until_stopped(should_stop)
        return "partial"

    worker, seen = start(qtbot, pool, job)
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=WAIT_MS)
    worker.quit()
    wait_finished(qtbot, seen)
    assert seen[-2:] == [("aborted", "partial"), ("finished",)]
    assert "returned" not in [s[0] for s in seen] and pool.reported == []


def test_a_job_that_stops_by_raising_cancelled_is_aborted_not_errored(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        yield from until_stopped(should_stop)
        raise Cancelled("stopped")

    errors: list[BaseException] = []
    worker, seen = start(qtbot, pool, job, errored=errors.append)
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=WAIT_MS)
    worker.quit()
    wait_finished(qtbot, seen)
    assert seen[-2:] == [("aborted", None), ("finished",)]
    assert errors == [] and pool.reported == []


def test_a_bug_is_an_error_even_after_stop(qtbot, pool: WorkerPool) -> None:
    def job(should_stop):  # noqa: ANN001, ANN202
        yield from until_stopped(should_stop)
        raise ZeroDivisionError("a bug while stopping")

    worker, seen = start(qtbot, pool, job)
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=WAIT_MS)
    worker.quit()
    wait_finished(qtbot, seen)
    assert "aborted" not in [s[0] for s in seen]
    assert [type(exc) for exc, _ in pool.reported] == [ZeroDivisionError]


def test_slots_must_name_a_signal(qtbot, pool: WorkerPool) -> None:
    with pytest.raises(TypeError, match="no worker signal named progressed"):
        pool.start(lambda should_stop: iter(()), "Test job", progressed=print)
    assert pool.running == []
