"""Start-up cost of one CLI process: ``desktop-rag search`` and ``desktop-rag ask``, wall time and
peak memory, median of N runs, for each embedding backend in the same run ("torch": as before
the ONNX backend; "onnx": the default now). Prints a table; asserts nothing.

The ONNX copies of the model are made (once, cached) before anything is timed. Each backend uses
a copy of the library it names (--torch-dir, --onnx-dir; one --data-dir serves both), so nothing
is written into the originals. ``uptime``'s load is printed before and after: rerun when it was high.
With --gui, also the GUI's launch on an empty data folder (as benchmarks/bench_gui.py measures it):
seconds from the process's start until the window shows and until the embedder is ready.
Usage: python benchmarks/bench_startup.py --data-dir LIB [--torch-dir LIB] [--onnx-dir LIB] [--runs 5] [--gui]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import ROOT, python, table  # noqa: E402
from _measure import run_alone  # noqa: E402
from bench_ingest import backend_env, load, prepare_onnx_copies  # noqa: E402

QUESTION = "What was Apple's total net sales in the third quarter of 2023?"


def library_copy(source: Path, backend: str) -> tuple[Path, dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-startup-{backend}-"))
    shutil.copytree(source, folder / "library", ignore=shutil.ignore_patterns("eval-stores"))
    return folder / "library", backend_env(backend, folder)


def measure(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float, int]:
    """Median wall seconds, median peak RSS MB, and the worst exit code of ``runs`` runs."""
    results = [run_alone(command, env) for _ in range(runs)]
    return (statistics.median(r.seconds for r in results), statistics.median(r.peak_rss_mb for r in results),
            max(r.returncode for r in results))


def gui_launch(backend: str, runs: int) -> tuple[str, ...]:
    """Median seconds to the window and to the embedder being ready, over ``runs`` launches."""
    reports = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, **backend_env(backend, Path(tmp))}
            if not env.get("DISPLAY"):
                env["QT_QPA_PLATFORM"] = "offscreen"
            report = Path(tmp) / "startup.json"
            subprocess.run([python(), "-m", "desktop_rag", "--data-dir", str(Path(tmp) / "data"),
                            "--report-startup", str(report), "--quit-when-ready"],
                           cwd=ROOT, env=env, check=True, timeout=600, capture_output=True)
            reports.append(json.loads(report.read_text()))
    window = statistics.median(r["window_visible_s"] for r in reports)
    ready = statistics.median(r.get("embedder_ready_s", float("nan")) for r in reports)
    return ("GUI launch", backend, str(runs), f"window {window:.2f}, embedder ready {ready:.2f}", "", "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--torch-dir", type=Path, help="a library indexed with the torch backend")
    parser.add_argument("--onnx-dir", type=Path, help="a library indexed with the onnx backend")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--gui", action="store_true", help="also time the GUI's launch per backend")
    args = parser.parse_args()
    sources = {"torch": args.torch_dir or args.data_dir, "onnx": args.onnx_dir or args.data_dir}
    if None in sources.values():
        parser.error("give --data-dir, or both --torch-dir and --onnx-dir")
    print(f"before: {load()}; ONNX copies ready in {prepare_onnx_copies():.1f} s (made once, cached)")
    rows = [("command", "backend", "runs", "median s", "median peak RSS MB", "exit")]
    for command in ("search", "ask"):
        for backend, source in sources.items():
            data, env = library_copy(source, backend)
            argv = [python(), "-m", "desktop_rag", "--data-dir", str(data), command, args.question]
            seconds, rss, code = measure(argv, env, args.runs)
            rows.append((command, backend, str(args.runs), f"{seconds:.2f}", f"{rss:.0f}", str(code)))
    if args.gui:
        rows.extend(gui_launch(backend, args.runs) for backend in sources)
    print(table(rows))
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
