"""Answer speed when another process shares the CPU (issue 14).

``desktop-rag ask --json`` (first-token time and tokens/s as the answerer measures them) in four
conditions: alone; while ``desktop-rag ingest`` indexes the SEC corpus into a scratch library (a
second process, restarted on a fresh library whenever it finishes); beside a CPU-bound process
that keeps one core busy; and beside another ``desktop-rag ask`` answering over and over (the
case issue 14 measured). Then the window's own case, in this process: ``jobs.answer``
while ``jobs.ingest`` indexes the corpus on another thread, sharing one ModelCache as the GUI's
workers do.

"before" fixes the thread count at every physical core (``--threads N``: the old automatic
choice; in process also without the answer pause); "after" is the default (threads chosen from
the free cores, indexing paused while the window answers). Answers are greedy and capped at
``--max-tokens``. Prints a table (medians) and the load average; asserts nothing.

Usage: python benchmarks/bench_shared_cpu.py --library /tmp/sec-lib
(an ingested SEC library; it is copied, never written)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCS, python, table  # noqa: E402

from desktop_rag.core.models.hardware import physical_cores  # noqa: E402

QUESTIONS = [
    "What were Apple's total net sales for the three months ended June 25, 2022?",
    "How much did Microsoft spend on research and development in the quarter ended March 31, 2023?",
    "What were NVIDIA's data center revenues in the second quarter of fiscal 2024?",
]
BUSY_LOOP = "while True:\n    pass\n"


def ask(args: argparse.Namespace, library: Path, question: str, threads: int) -> dict[str, Any]:
    """One ``desktop-rag ask --json`` run; its timings (``timeout`` set when it overran)."""
    cmd = [python(), "-m", "desktop_rag", "--config", str(args.config), "--data-dir", str(library), "ask",
           question, "--json", "--temperature", "0", "--max-tokens", str(args.max_tokens)]
    if threads:
        cmd += ["--threads", str(threads)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    if done.returncode != 0:
        raise SystemExit(f"ask failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)["timings"]


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """A CPU-bound process on one core (a busy browser tab, a compile) for the duration."""
    proc = subprocess.Popen([python(), "-c", BUSY_LOOP])
    try:
        time.sleep(1.0)
        yield
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def ingesting(args: argparse.Namespace, scratch: Path, threads: int) -> Iterator[None]:
    """``desktop-rag ingest`` of the corpus running in another process for the duration."""
    stop = threading.Event()
    config = scratch / f"ingest-{threads}.toml"
    config.write_text(f"n_threads = {threads}\n" if threads else "", encoding="utf-8")

    def keep_ingesting() -> None:
        round_ = 0
        while not stop.is_set():
            target = scratch / f"ingest-{threads}-{round_}"
            proc = subprocess.Popen([python(), "-m", "desktop_rag", "--config", str(config), "--data-dir",
                                     str(target), "ingest", str(DOCS), "--no-collection"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while proc.poll() is None and not stop.wait(0.2):
                pass
            proc.kill()
            proc.wait()
            shutil.rmtree(target, ignore_errors=True)
            round_ += 1

    worker = threading.Thread(target=keep_ingesting, daemon=True)
    worker.start()
    try:
        time.sleep(args.warmup)  # past model loading: extracting and embedding
        yield
    finally:
        stop.set()
        worker.join()


@contextlib.contextmanager
def asking(args: argparse.Namespace, library: Path, threads: int) -> Iterator[None]:
    """Another ``desktop-rag ask`` (same thread setting) answering over and over, for the duration."""
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            cmd = [python(), "-m", "desktop_rag", "--config", str(args.config), "--data-dir", str(library), "ask",
                   QUESTIONS[-1], "--max-tokens", "384"] + (["--threads", str(threads)] if threads else [])
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while proc.poll() is None and not stop.wait(0.2):
                pass
            proc.kill()
            proc.wait()

    worker = threading.Thread(target=keep_asking, daemon=True)
    worker.start()
    try:
        time.sleep(args.warmup)  # past its model loading
        yield
    finally:
        stop.set()
        worker.join()


def in_process_answers(args: argparse.Namespace, library: Path, scratch: Path, threads: int,
                       questions: list[str]) -> list[dict[str, Any]]:
    """The window's case: answers while this process indexes the corpus on another thread."""
    from desktop_rag import jobs
    from desktop_rag.config import Settings
    from desktop_rag.core.search.scope import EVERYTHING
    from desktop_rag.core.types import run_to_end
    from desktop_rag.ingest_queue import Batch
    from desktop_rag.model_cache import ModelCache
    from desktop_rag.shared_store import SharedStore

    settings = Settings(data_dir=str(library), n_threads=threads, temperature=0.0, max_tokens=args.max_tokens)
    models = ModelCache(settings)
    run_to_end(models.load())
    if threads:  # before: no pause either
        models.answering = _NoPause()  # type: ignore[assignment]
    stop = threading.Event()
    paths = tuple(str(p) for p in sorted(DOCS.glob("*.pdf")))

    def keep_ingesting() -> None:
        round_ = 0
        while not stop.is_set():
            target = settings.replace(data_dir=str(scratch / f"gui-{threads}-{round_}"))
            run_to_end(jobs.ingest(target, models, Batch(paths, replace=False), {}, stop.is_set))
            round_ += 1

    worker = threading.Thread(target=keep_ingesting, daemon=True)
    worker.start()
    time.sleep(args.warmup)
    shared = SharedStore(settings.data_path)
    try:
        return [run_to_end(jobs.answer(settings, models, shared, q, EVERYTHING, lambda: False)).timings
                for q in questions]
    finally:
        stop.set()
        worker.join()
        shared.retire()
        models.close()


class _NoPause:
    """The answer pause as it was before: indexing never waits."""

    active = False

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        yield

    def gated(self, should_stop: Callable[[], bool]) -> Callable[[], bool]:
        return should_stop


def summary(label: str, variant: str, runs: list[dict[str, Any]], alone: float | None) -> tuple[str, ...]:
    done = [r for r in runs if not r.get("timeout")]
    if not done:
        return (label, variant, "timeout", "timeout", "-", f"{len(runs) - len(done)}/{len(runs)}")
    first = statistics.median(r["first_token_ms"] for r in done) / 1000
    speed = statistics.median(r.get("tokens_per_s") or 0.0 for r in done)
    share = f"{100 * speed / alone:.0f}%" if alone else "-"
    return (label, variant, f"{first:.1f}", f"{speed:.1f}", share, f"{len(runs) - len(done)}/{len(runs)}")


def load_now() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_all(args: argparse.Namespace, library: Path, scratch: Path) -> list[tuple[str, ...]]:
    cores, questions = physical_cores(), QUESTIONS[:args.questions]
    variants = [("before", cores), ("after", 0)]
    rows = [("condition", "threads", "first token s", "tokens/s", "of alone", "timeouts")]
    alone: dict[str, float] = {}
    conditions: list[tuple[str, Callable[[int], Any]]] = [
        ("alone", lambda _t: contextlib.nullcontext()),
        ("during ingest (2nd process)", lambda t: ingesting(args, scratch, t)),
        ("beside 1 busy core", lambda _t: busy_core()),
        ("beside another ask", lambda t: asking(args, library, t)),
    ]
    for label, background in conditions:
        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant, _ in variants}
        for question in questions * args.repeat:  # before and after in turn: drift hits both alike
            for variant, threads in variants:
                print(f"[{time.strftime('%H:%M:%S')}] {label}, {variant} (load {load_now()})", file=sys.stderr)
                with background(threads):
                    runs[variant].append(ask(args, library, question, threads))
        for variant, threads in variants:
            if label == "alone":
                alone[variant] = statistics.median(r.get("tokens_per_s") or 0.0 for r in runs[variant])
            rows.append(summary(label, f"{variant} ({threads or 'auto'})", runs[variant], alone.get(variant)))
    for variant, threads in variants if args.in_process else []:
        print(f"[{time.strftime('%H:%M:%S')}] in process, {variant} (load {load_now()})", file=sys.stderr)
        answered = in_process_answers(args, library, scratch, threads, questions * args.repeat)
        rows.append(summary("window: answer while indexing", f"{variant} ({threads or 'auto'})", answered,
                            alone.get(variant)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, required=True, help="an ingested SEC library (copied, not written)")
    parser.add_argument("--questions", type=int, default=2, help="how many of the questions to ask (max 3)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per question (medians are shown)")
    parser.add_argument("--max-tokens", type=int, default=64, help="longest answer (bounds the slow cases)")
    parser.add_argument("--timeout", type=float, default=240, help="seconds before one ask counts as timed out")
    parser.add_argument("--warmup", type=float, default=12, help="seconds the background work runs first")
    parser.add_argument("--no-in-process", dest="in_process", action="store_false",
                        help="skip the window's case (answers while this process indexes)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-shared-cpu-"))
    try:
        library = scratch / "library"
        shutil.copytree(args.library, library)
        args.config = scratch / "settings.toml"  # defaults, not the user's settings
        args.config.write_text("", encoding="utf-8")
        print(f"{physical_cores()} physical cores, {os.cpu_count()} CPUs; load before: {load_now()}")
        rows = run_all(args, library, scratch)
        print(table(rows))
        print(f"load after: {load_now()}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
