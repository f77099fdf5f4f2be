"""One command's own wall time and peak memory (``wait4``: that process and the children it waited
for, not the largest of everything this script ran before, as RUSAGE_CHILDREN is)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

from _common import Run


@dataclass
class MeasuredRun(Run):
    cpu_s: float = 0.0  # user + system CPU seconds of the process and the children it waited for


def run_alone(args: list[str], env: dict[str, str] | None = None) -> MeasuredRun:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return MeasuredRun(seconds, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read(),
                           usage.ru_utime + usage.ru_stime)
