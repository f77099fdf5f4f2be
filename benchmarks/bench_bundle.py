"""The desktop bundle against the installed app, in one run: sizes and start-up times. Prints a
table; asserts nothing.

Unpacks the archive (``make bundle``) into a temporary folder, indexes two SEC filings with the
installed app, then alternates the two apps, each in a clean environment (``env -i``, one fresh
HOME, PATH=/usr/bin:/bin): CLI ``list``, CLI ``search`` (embeds the question) and the GUI offscreen
(launch to window painted, to embedder ready, to chat model ready, as the app reports them). One
untimed warm-up run of each first (it also makes the installed app's cached ONNX copy).

Usage: ``python benchmarks/bench_bundle.py [--archive dist/...tar.gz] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, ROOT, table  # noqa: E402

FILINGS = ("2022 Q3 AAPL.pdf", "2022 Q3 NVDA.pdf")
QUERY = "Apple total net sales for the quarter"
GUI_KEYS = ("window_visible_s", "embedder_ready_s", "llm_ready_s")


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def clean_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def gui_times(app: str, data: Path, env: dict[str, str], report: Path) -> dict[str, float]:
    subprocess.run([app, "--data-dir", str(data), "--report-startup", str(report), "--quit-when-ready"],
                   env=env, check=True, capture_output=True, timeout=600)
    return json.loads(report.read_text())


def measure(apps: dict[str, str], data: Path, home: Path, runs: int) -> dict[str, dict[str, list[float]]]:
    env = clean_env(home)
    results: dict[str, dict[str, list[float]]] = {name: {} for name in apps}
    for i in range(runs + 1):  # run 0 warms up and is not counted
        for name, app in apps.items():
            times = {
                "CLI list": timed([app, "--data-dir", str(data), "list"], env),
                "CLI search": timed([app, "--data-dir", str(data), "search", QUERY], env),
                **{f"GUI {k}": v for k, v in gui_times(app, home / "gui-data", env, home / "gui.json").items()
                   if k in GUI_KEYS},
            }
            for key, value in times.items():
                if i:
                    results[name].setdefault(key, []).append(value)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    newest = max((ROOT / "dist").glob("desktop-rag-*-linux-*.tar.gz"), key=os.path.getmtime, default=None)
    parser.add_argument("--archive", type=Path, default=newest)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.archive is None or not args.archive.is_file():
        parser.error("no bundle archive: run `make bundle` first, or pass --archive")
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        tmp_path = Path(tmp)
        started = time.perf_counter()
        with tarfile.open(args.archive) as archive:
            archive.extractall(tmp_path / "unpacked", filter="tar")
        unpack_s = time.perf_counter() - started
        bundle = next((tmp_path / "unpacked").iterdir())
        apps = {"installed (.venv)": str(ROOT / ".venv" / "bin" / "desktop-rag"), "frozen": str(bundle / "desktop-rag")}
        home, data = tmp_path / "home", tmp_path / "data"
        home.mkdir()
        subprocess.run([apps["installed (.venv)"], "--data-dir", str(data), "ingest", *(str(DOCS / f) for f in FILINGS)],
                       env=clean_env(home), check=True, capture_output=True)
        print(f"archive {args.archive.name}: {args.archive.stat().st_size / 2**20:.0f} MB; unpacked "
              f"{folder_mb(bundle):.0f} MB in {unpack_s:.1f} s; load {os.getloadavg()[0]:.2f} at start")
        results = measure(apps, data, home, args.runs)
    keys = list(next(iter(results.values())))
    rows = [("median of %d (s)" % args.runs, *results)]
    rows += [(key, *(f"{statistics.median(results[name][key]):.2f}" for name in results)) for key in keys]
    print(table(rows))
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
