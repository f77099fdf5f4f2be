"""GUI responsiveness and start-up time. Prints tables; asserts nothing.

1. Launch: runs ``python -m desktop_rag`` on an empty data folder and records (from the process's
   own start) when the window first paints and when each model is ready.
2. Ingestion stalls: a real window with the real models indexes the SEC filings while a
   10 ms timer on the GUI thread records how late each tick comes; a late tick is the time the
   event loop could not answer the user. Reports the maximum and the 99th percentile gap.
3. Stop: asks a real question on the library just built, presses Stop after a few tokens, and
   reports how long until the stream ended.

Usage: ``python benchmarks/bench_gui.py [--runs 3] [--docs DIR] [--skip-launch] [--skip-ingest]``.
Runs offscreen unless DISPLAY is set (then in a real window, e.g. under Xvfb).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, ROOT, python, table  # noqa: E402

HEARTBEAT_MS = 10
QUESTION = "What was Apple's total net sales for the quarter ended June 25, 2022?"


def measure_launch(runs: int) -> list[dict[str, float]]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "startup.json"
            env = {**os.environ, "DESKTOP_RAG_CONFIG": str(Path(tmp) / "settings.toml")}
            if not env.get("DISPLAY"):
                env["QT_QPA_PLATFORM"] = "offscreen"
            subprocess.run([python(), "-m", "desktop_rag", "--data-dir", str(Path(tmp) / "data"),
                            "--report-startup", str(report), "--quit-when-ready"],
                           cwd=ROOT, env=env, check=True, timeout=600, capture_output=True)
            results.append(json.loads(report.read_text()))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure_ingest_and_stop(docs: Path) -> dict[str, float]:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="bench-gui-")
    os.environ["DESKTOP_RAG_CONFIG"] = str(Path(tmp) / "settings.toml")
    from PySide6.QtWidgets import QApplication

    from desktop_rag.app import create_window, setup_logging
    from desktop_rag.config import Settings
    from desktop_rag.model_cache import ModelState
    from desktop_rag.ui.notifications import NotificationManager

    app = QApplication.instance() or QApplication([])
    log_file = setup_logging(Path(tmp))
    window = create_window(Settings(data_dir=str(Path(tmp) / "data")), NotificationManager(str(log_file)))
    window.show()
    wait(app, lambda: all(state in (ModelState.READY, ModelState.FAILED)
                          for state, _ in window.engine.model_states.values()), 600)
    result = measure_ingest(app, window, docs)
    result.update(measure_stop(app, window))
    window.close()
    wait(app, lambda: window._closed, 120)
    return result


def measure_ingest(app, window, docs: Path) -> dict[str, float]:  # noqa: ANN001
    """Index ``docs`` as a drop would, while a heartbeat timer measures how late the GUI thread answers."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    gaps: list[float] = []
    clock = QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    last = [0]

    def beat() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    heartbeat.timeout.connect(beat)
    done: list[object] = []
    window.engine.ingest_finished.connect(done.append)
    clock.start()
    heartbeat.start()
    started = time.perf_counter()
    window.add_paths([str(docs)])  # the same path as a drop
    wait(app, lambda: bool(done) and not window.engine.ingesting, 3600)
    ingest_s = time.perf_counter() - started
    heartbeat.stop()
    stats = window.engine.stats()
    return {"ingest_s": ingest_s, "documents": stats["documents"], "pages": stats["pages"],
            "ticks": len(gaps), "gap_max_ms": max(gaps), "gap_p99_ms": percentile(gaps, 99),
            "gap_p50_ms": percentile(gaps, 50), "gaps_over_100ms": sum(g > 100 for g in gaps)}


def measure_stop(app, window) -> dict[str, float]:  # noqa: ANN001
    tokens: list[float] = []
    window.chat.question.setPlainText(QUESTION)
    window.chat.submit()
    worker = window.chats.worker
    worker.yielded.connect(lambda e: tokens.append(time.perf_counter()) if e.kind == "token" else None)
    wait(app, lambda: len(tokens) >= 5 or window.chats.worker is None, 600)
    pressed = time.perf_counter()
    window.chat.stop()
    wait(app, lambda: window.chats.worker is None, 120)
    ended = time.perf_counter()
    after = [t for t in tokens if t > pressed]
    return {"stop_to_end_ms": (ended - pressed) * 1000, "tokens_after_stop": len(after),
            "last_token_after_stop_ms": ((max(after) - pressed) * 1000) if after else 0.0}


def wait(app, condition, timeout_s: float) -> None:  # noqa: ANN001
    """Run the real event loop (not a polling loop, which would hide stalls) until ``condition``."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    loop, deadline = QEventLoop(), time.monotonic() + timeout_s
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline else None)
    poll.start()
    loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError("benchmark step timed out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    where = "Xvfb/X11 window" if os.environ.get("DISPLAY") else "offscreen"
    print(f"GUI benchmark ({where}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})\n")
    if not args.skip_launch:
        runs = measure_launch(args.runs)
        rows = [("run", "window visible (s)", "embedder ready (s)", "LLM ready (s)")]
        for i, r in enumerate(runs, 1):
            rows.append((str(i), f"{r.get('window_visible_s', float('nan')):.2f}",
                         f"{r.get('embedder_ready_s', float('nan')):.2f}", f"{r.get('llm_ready_s', float('nan')):.2f}"))
        med = {k: statistics.median(r[k] for r in runs if k in r) for k in runs[0]}
        rows.append(("median", f"{med['window_visible_s']:.2f}", f"{med.get('embedder_ready_s', 0):.2f}",
                     f"{med.get('llm_ready_s', 0):.2f}"))
        print("Launch (seconds since the process started)\n" + table(rows) + "\n")
    if not args.skip_ingest:
        r = measure_ingest_and_stop(args.docs)
        print(f"Ingestion of {r['documents']} documents ({r['pages']} pages) in {r['ingest_s']:.0f} s, "
              f"GUI heartbeat every {HEARTBEAT_MS} ms, {r['ticks']} ticks")
        print(table([("metric", "value"), ("max gap (ms)", f"{r['gap_max_ms']:.1f}"),
                     ("p99 gap (ms)", f"{r['gap_p99_ms']:.1f}"), ("median gap (ms)", f"{r['gap_p50_ms']:.1f}"),
                     ("gaps over 100 ms", str(r["gaps_over_100ms"]))]))
        print(f"\nStop during an answer: stream ended {r['stop_to_end_ms']:.0f} ms after Stop; "
              f"{r['tokens_after_stop']} tokens arrived after it "
              f"(last {r['last_token_after_stop_ms']:.0f} ms after Stop; none are shown)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
