"""The one way to run a job off the GUI thread (after superqt's ``GeneratorWorker``).

A *job* is a callable that takes ``should_stop`` and returns a generator: each value it yields
is progress, the value it returns is the result (see :mod:`desktop_rag.jobs`). Start one with
:meth:`WorkerPool.start`, which connects the slots it is given before the job starts, so no
signal goes unheard::

    pool.start(job, "Answering", yielded=self._on_ask_worker_yielded, aborted=...)

A worker's signals arrive on the GUI thread in this order: ``started()``; ``yielded(value)`` per
progress value; exactly one of ``returned(result)``, ``aborted(partial)``, ``errored(exc)``;
and ``finished()``, always, last.

**Errors are reported once.** A job's exception goes to the ``errored`` slot given to
:meth:`WorkerPool.start` if there is one (that slot owns it: it shows it, or hands it on),
and otherwise to the notification manager (an inline banner, or a dialog for a bug).

**Stopping, the one convention.** :meth:`GeneratorWorker.quit` asks a job to stop; nothing
interrupts it. The job reads ``should_stop()`` at its cancel points (every ``yield`` of a core
generator; llama.cpp also between compute steps) and winds down by itself, so whatever it has
committed stays whole. A stopped job then emits ``aborted(partial)``, never ``returned`` or
``errored``: ``partial`` is what the job returned as it stopped (the files indexed before Stop,
the answer written so far), or None where it stopped by raising
:class:`~desktop_rag.errors.Cancelled`. ``Cancelled`` means ``aborted`` even without
:meth:`~GeneratorWorker.quit` (a job told to stop some other way). Any other exception is
``errored``, Stop or not: a bug does not hide behind a Stop.

Unlike superqt, ``aborted`` carries the partial result (the core returns one, and the user sees
it), and the worker does not close the generator at a ``yield`` after Stop: the core stops at
its own cancel points, where it knows that nothing is half written.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop_rag.core.types import Events
from desktop_rag.errors import Cancelled

log = logging.getLogger(__name__)

Job = Callable[[Callable[[], bool]], Generator[Any, None, Any]]
SIGNALS = ("started", "yielded", "returned", "errored", "aborted", "finished")
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
    started = Signal()
    yielded = Signal(object)  # a progress value
    returned = Signal(object)  # the job's result
    errored = Signal(object)  # the exception
    aborted = Signal(object)  # what the stopped job returned, or None
    finished = Signal()


class GeneratorWorker(QRunnable):
    """Runs one job; its signals are delivered on the thread that owns them (the GUI thread).

    Made and started by :meth:`WorkerPool.start`; keep it to :meth:`quit` the job.
    """

    def __init__(self, job: Job, name: str, *, background: bool = True) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps a Python reference until ``finished``
        self.job, self.name, self.background = job, name, background
        self.signals = WorkerSignals()
        self._stop = threading.Event()
        # so callers write ``worker.yielded.connect(...)``
        s = self.signals
        self.started, self.yielded, self.returned = s.started, s.yielded, s.returned
        self.errored, self.aborted, self.finished = s.errored, s.aborted, s.finished

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def quit(self) -> None:
        """Ask the job to stop at its next cancel point (thread-safe, returns at once)."""
        self._stop.set()

    def run(self) -> None:  # runs in a pool thread
        if self.background:
            lower_thread_priority()
        signals = self.signals
        signals.started.emit()
        try:
            result = self._drive()
        except Cancelled:
            signals.aborted.emit(None)
        except Exception as exc:  # noqa: BLE001 - every error is delivered, never swallowed
            log.debug("job %s failed", self.name, exc_info=True)
            signals.errored.emit(exc)
        else:
            (signals.aborted if self.should_stop() else signals.returned).emit(result)
        finally:
            signals.finished.emit()

    def _drive(self) -> Any:
        """Run the job to its end, emitting each progress value; returns its result."""
        events = Events(self.job(self.should_stop))
        for value in events:
            self.signals.yielded.emit(value)
        return events.result


class WorkerPool(QObject):
    """Starts workers, keeps them alive while they run, and reports the errors no slot takes."""

    activity_changed = Signal(str)  # what the workers are doing, for the status bar ("" = idle)
    all_finished = Signal()

    def __init__(self, report_error: Callable[[BaseException, str], None], max_threads: int = 6,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._report_error = report_error
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: list[GeneratorWorker] = []
        alive = self._alive = [True]  # False once this pool (and so its owner, a dialog say) is deleted
        self.destroyed.connect(lambda *_: alive.__setitem__(0, False))

    def _while_alive(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        """``slot``, skipped once the pool is deleted: a worker that outlives a closed dialog must
        not call into the dialog's deleted widgets."""
        alive = self._alive
        return lambda *args: slot(*args) if alive[0] else None

    def start(self, job: Job, name: str, *, background: bool = True,
              **slots: Callable[..., Any]) -> GeneratorWorker:
        """Run ``job`` (``name`` is shown in the status bar and in error messages).

        ``slots`` maps signal names (``started``, ``yielded``, ``returned``, ``errored``,
        ``aborted``, ``finished``) to callables, connected before the job starts. Without an
        ``errored`` slot, an error goes to the notification manager. ``background`` jobs run at
        a lower priority than the GUI; one the user is waiting for (loading models) does not.
        """
        unknown = sorted(set(slots) - set(SIGNALS))
        if unknown:
            raise TypeError(f"no worker signal named {', '.join(unknown)}")
        worker = GeneratorWorker(job, name, background=background)
        for signal, slot in slots.items():
            getattr(worker, signal).connect(self._while_alive(slot))
        if "errored" not in slots:
            worker.errored.connect(self._while_alive(lambda exc: self._report_error(exc, name)))
        worker.finished.connect(self._while_alive(lambda: self._on_worker_finished(worker)))
        self._running.append(worker)
        self.activity_changed.emit(self.activity())
        self._pool.start(worker)
        return worker

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
