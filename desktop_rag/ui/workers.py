"""The one place that runs core generators off the GUI thread (after superqt's ``GeneratorWorker``).

A job is a callable that takes a ``should_stop`` callable and returns a generator. The worker
runs it in a thread pool and turns it into Qt signals: ``yielded`` (every progress event),
``returned`` (the generator's return value), ``errored`` (an exception) and always ``finished``
last.

Stopping is cooperative: :meth:`quit` makes ``should_stop()`` true, which the core checks at
every ``yield`` (and llama.cpp between compute steps). An exception with no ``errored`` handler
is not swallowed: :class:`WorkerPool` sends every error to the notification manager.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Job = Callable[[Callable[[], bool]], Generator[Any, None, Any]]
BACKGROUND_NICE = 10


def lower_thread_priority() -> None:
    """Let the GUI thread win the CPU over background work.

    On a 2-core machine, embedding (two torch threads) and the extraction child process keep
    both cores busy; at equal priority the GUI thread waited tens of milliseconds for a turn.
    On Linux niceness is per thread and is inherited by the threads and processes a thread
    starts (torch's and llama.cpp's workers, the extraction child), so one call covers them.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
    except OSError as exc:  # not permitted in some sandboxes: only responsiveness suffers
        log.debug("cannot lower the priority of a worker thread: %s", exc)


class WorkerSignals(QObject):
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Runs one job; its signals are delivered on the thread that owns them (the GUI thread)."""

    def __init__(self, job: Job, name: str, *, background: bool = True) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps a Python reference until ``finished``
        self.job, self.name, self.background = job, name, background
        self.signals = WorkerSignals()
        self._stop = threading.Event()
        # so callers write ``worker.yielded.connect(...)``
        self.yielded, self.returned = self.signals.yielded, self.signals.returned
        self.errored, self.finished = self.signals.errored, self.signals.finished

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def quit(self) -> None:
        """Ask the job to stop at its next cancel point (thread-safe, returns at once)."""
        self._stop.set()

    def run(self) -> None:  # runs in a pool thread
        if self.background:
            lower_thread_priority()
        signals = self.signals
        try:
            gen = self.job(self.should_stop)
            while True:
                try:
                    value = next(gen)
                except StopIteration as stop:
                    signals.returned.emit(stop.value)
                    break
                signals.yielded.emit(value)
        except Exception as exc:  # noqa: BLE001 - every error is delivered, never swallowed
            log.debug("job %s failed", self.name, exc_info=True)
            signals.errored.emit(exc)
        finally:
            signals.finished.emit()


class WorkerPool(QObject):
    """Starts workers, keeps them alive while they run, and routes unhandled errors."""

    activity_changed = Signal(str)  # what the workers are doing, for the status bar ("" = idle)
    all_finished = Signal()

    def __init__(self, report_error: Callable[[BaseException, str], None], max_threads: int = 6,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._report_error = report_error
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: list[GeneratorWorker] = []

    def start(self, worker: GeneratorWorker, *, handles_errors: bool = False) -> GeneratorWorker:
        """Run ``worker``; its errors go to the notification manager unless ``handles_errors``."""
        if not handles_errors:
            worker.errored.connect(lambda exc, name=worker.name: self._report_error(exc, name))
        worker.finished.connect(lambda w=worker: self._on_worker_finished(w))
        self._running.append(worker)
        self.activity_changed.emit(self.activity())
        self._pool.start(worker)
        return worker

    def run(self, job: Job, name: str, **kwargs: Any) -> GeneratorWorker:
        return self.start(GeneratorWorker(job, name), **kwargs)

    def _on_worker_finished(self, worker: GeneratorWorker) -> None:
        if worker in self._running:
            self._running.remove(worker)
        self.activity_changed.emit(self.activity())
        if not self._running:
            self.all_finished.emit()

    @property
    def running(self) -> list[GeneratorWorker]:
        return list(self._running)

    def activity(self) -> str:
        return ", ".join(dict.fromkeys(w.name for w in self._running))

    def quit_all(self) -> None:
        for worker in self._running:
            worker.quit()

    def wait_for_done(self, timeout_ms: int) -> bool:
        """Block until every worker has finished (used at exit only, after :meth:`quit_all`)."""
        return self._pool.waitForDone(timeout_ms)
