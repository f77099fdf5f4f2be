"""Shared helpers for the benchmark scripts: corpus location, timed subprocesses, tables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("DESKTOP_RAG_CORPUS", ROOT.parent / "shared" / "corpus" / "sec-10-q"))
DOCS = CORPUS / "docs"


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a command; wall time and the peak resident memory of it and its children (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    # ru_maxrss of RUSAGE_CHILDREN is the largest of all waited-for descendants, in KiB on Linux.
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Run(seconds, peak, proc.returncode, out, err)


def python() -> str:
    return sys.executable


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def eval_in_this_process(data: str, questions: str, out: str) -> int:
    """Run ``desktop-rag eval`` (hybrid) here: a child of :func:`eval_with_patch`, after it patched a setting."""
    sys.argv = ["desktop-rag", "--data-dir", data, "eval", "--questions", questions, "--modes", "hybrid",
                "--out", out]
    from desktop_rag.__main__ import main

    return main()


def eval_with_patch(script: str, patch: str, source: Path, questions: Path, tmp: Path) -> dict:
    """The eval results (results.json) on a copy of the library at ``source``, from a child process
    running ``script --child PATCH DATA QUESTIONS OUT``: the script patches the setting it studies
    (``patch``) and calls :func:`eval_in_this_process`. The copy keeps the library as it was."""
    import json
    import shutil

    data, out = tmp / f"lib-{patch}", tmp / f"out-{patch}"
    shutil.copytree(source, data)
    run = subprocess.run([python(), script, "--child", patch, str(data), str(questions), str(out)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    return json.loads((out / "results.json").read_text())
