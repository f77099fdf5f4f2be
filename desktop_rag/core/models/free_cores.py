"""How many threads to run now: the cores other processes leave free, measured rather than assumed.

llama.cpp's threads (and torch's) meet at a barrier after every step of the computation, and
wait for each other there by spinning. When fewer cores are free than threads run, every step
waits for a thread that is not running: on a 2-core machine beside one other busy process the
bundled model fell from about 60 tokens/s to 0.3 at two threads, and ran at 25 with one.

So the thread count is chosen from what *other* processes used over a short window: the idle
time of the CPUs this process may use (``/proc/stat``) and this process's own CPU time are read
at both ends, and the difference is the busy time elsewhere. Our own threads are left out, so a
window in which we computed (between two embedding batches, between two checks while a model
writes) measures the others just as well as one in which we waited. Where ``/proc/stat`` cannot
be read (macOS, Windows) every physical core is used, as before.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass
from typing import Callable

from desktop_rag.core.models.hardware import physical_cores

SAMPLE_S = 0.1  # a fresh reading waits this long: 20 clock ticks on 2 CPUs, ~0.1 core resolution
# A reading another model of this process took this recently is used instead of waiting for a
# fresh one (the embedder's, while it picked the quotes, for the prompt that follows).
SHARED_FRESH_S = 0.5
MIN_WINDOW_S = 0.05  # shorter windows are too coarse to read (/proc/stat counts 10 ms ticks)
# A core counts as free when at most this much of it is busy elsewhere. Beside a process using a
# quarter of a core, two threads read a prompt 1.6x faster than one and wrote 18% slower; beside
# one using a whole core, 0.7x and 3x slower (bare llama.cpp, the bundled model, 2 cores).
BUSY_TOLERANCE = 0.25

try:
    CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):  # not a POSIX system: /proc/stat is absent anyway
    CLOCK_TICKS = 100


@dataclass(frozen=True, slots=True)
class CpuReading:
    at: float  # time.monotonic() when read
    idle: float  # seconds all CPUs together have been idle since boot
    own: float  # CPU seconds this process (all its threads) has used


def usable_cpus() -> frozenset[int] | None:
    """The CPUs this process may run on (``taskset``, a container's cpuset); None: not known."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def read_cpu(only: frozenset[int] | None = None) -> CpuReading | None:
    """Idle time of all CPUs (or of the CPUs ``only`` names) and this process's CPU time, now;
    None where the system does not tell (no ``/proc/stat``)."""
    try:
        with open("/proc/stat", "rb") as fh:
            rows = [line.split() for line in fh if line.startswith(b"cpu")]
        # the first row sums all CPUs; "cpuN" rows follow
        rows = rows[:1] if only is None else [f for f in rows[1:] if int(f[0][3:]) in only]
        idle = sum(int(f[4]) + int(f[5]) for f in rows)  # idle + iowait: nothing ran
    except (OSError, IndexError, ValueError):
        return None
    return CpuReading(time.monotonic(), idle / CLOCK_TICKS, time.process_time())


def busy_elsewhere(before: CpuReading, after: CpuReading, cpus: int) -> float | None:
    """Cores other processes kept busy, on average, between two readings (None: window too short)."""
    span = after.at - before.at
    if span < MIN_WINDOW_S:
        return None
    busy = cpus - (after.idle - before.idle) / span
    own = (after.own - before.own) / span
    return min(float(cpus), max(0.0, busy - own))


def threads_for(elsewhere: float, *, cpus: int, cores: int, most: int) -> int:
    """Threads that each find a core: the physical cores not busy elsewhere, 1 to ``most``.

    ``elsewhere`` counts logical CPUs; with hyper-threading it is shared out over the physical
    cores in proportion (a busy sibling slows a core; it does not stop it).
    """
    free = cores * (1.0 - min(elsewhere, cpus) / cpus)
    return max(1, min(most, math.floor(free + BUSY_TOLERANCE)))


class LatestReading:
    """The busy cores elsewhere that the last choice in this process was made from, and when."""

    def __init__(self) -> None:
        self.value: tuple[float, float] = (-math.inf, 0.0)  # (clock() when read, cores busy elsewhere)

    def fresh(self, now: float, max_age_s: float) -> float | None:
        at, elsewhere = self.value  # one tuple, replaced whole: safe to read from any thread
        return elsewhere if now - at <= max_age_s else None


PROCESS_LATEST = LatestReading()  # shared by every chooser of this process (the embedder, the LLM)


class ThreadChooser:
    """Chooses a thread count, window after window, from the CPU time other processes used.

    :meth:`measure` takes a fresh reading (it waits ``SAMPLE_S``, unless another chooser of the
    process read the CPUs within ``SHARED_FRESH_S``); :meth:`begin` starts a window and
    :meth:`update` ends it, chooses from it and starts the next, so work done between them is
    measured without waiting. ``read``, ``sleep``, ``clock`` and ``latest`` are for tests.
    """

    def __init__(self, most: int, *, cpus: int = 0, cores: int = 0,
                 read: Callable[[], CpuReading | None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 latest: LatestReading = PROCESS_LATEST) -> None:
        every = os.cpu_count() or 1
        usable = usable_cpus()
        only = usable if usable and len(usable) < every else None  # pinned to some CPUs: read those
        self.most = max(1, most)
        self.cpus = cpus or (len(only) if only else every)
        self.cores = min(cores or physical_cores(), self.cpus)
        self._read = read or functools.partial(read_cpu, only)
        self._sleep, self._clock, self._latest = sleep, clock, latest
        self._start: CpuReading | None = None
        self.threads = self.most  # the latest choice
        self.elsewhere: float | None = None  # the busy cores elsewhere it was made from
        self.chosen_at = -math.inf  # clock() of the latest choice

    def begin(self) -> bool:
        """Start a window now; False where CPU time cannot be read (the choice stays ``most``)."""
        self._start = self._read()
        return self._start is not None

    def measure(self, window_s: float = SAMPLE_S) -> int:
        """A fresh choice: from the next ``window_s`` seconds, or from another chooser's reading
        of the last ``SHARED_FRESH_S``; a new window starts either way."""
        if not self.begin():
            return self.threads
        shared = self._latest.fresh(self._clock(), SHARED_FRESH_S)
        if shared is not None:
            return self._choose(shared)
        self._sleep(window_s)
        return self.update()

    def update(self) -> int:
        """The choice from the window since :meth:`begin` or the last update; a new window starts
        unless this one was too short to read, which then goes on."""
        now = self._read()
        if now is None or self._start is None:
            self._start = now
            return self.threads
        elsewhere = busy_elsewhere(self._start, now, self.cpus)
        if elsewhere is None:
            return self.threads
        self._start = now
        self._latest.value = (self._clock(), elsewhere)
        return self._choose(elsewhere)

    def _choose(self, elsewhere: float) -> int:
        self.elsewhere, self.chosen_at = elsewhere, self._clock()
        self.threads = threads_for(elsewhere, cpus=self.cpus, cores=self.cores, most=self.most)
        return self.threads

    def age(self) -> float:
        """Seconds since the latest choice (infinite before the first)."""
        return self._clock() - self.chosen_at
