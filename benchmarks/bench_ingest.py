"""Ingestion benchmark on the SEC 10-Q corpus (20 filings, 1,037 pages), as the README reports it.

1. desktop-rag ingest into an empty data dir, default settings (a CLI subprocess): wall time,
   pages/s, failures, peak resident memory (the largest of the app and its extraction child;
   measured first, before any other child of this script runs).
2. The same with each other embedding backend named by --backends (default: torch, the backend
   before the ONNX one), each into its own empty data dir, in the same run.
3. The default ingest command again over the same files: the re-run time a user waits.
4. A LangChain-tutorial-style pipeline (benchmarks/langchain_style.py) over the same files in the
   same run: throughput ratio.

The ONNX copies of the embedding model are made (once, cached) before anything is timed; the
time that took is printed apart. "CPU s" (user + system, the process and its extraction child)
depends little on what else the machine runs: on a shared machine it says more than seconds. ``uptime``'s load is printed before and after: on a shared
machine, rerun when it was high. Prints tables; asserts nothing.
Usage: python benchmarks/bench_ingest.py [--skip-baseline] [--backends torch,onnx]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCS, python, table  # noqa: E402
from _measure import MeasuredRun, run_alone  # noqa: E402

from desktop_rag.core.types import DocumentStatus  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def backend_env(backend: str, folder: Path) -> dict[str, str]:
    """A settings file that names the backend ("default": none, all defaults)."""
    config = folder / "settings.toml"
    config.write_text("" if backend == "default" else f'embedding_backend = "{backend}"\n', encoding="utf-8")
    return {"DESKTOP_RAG_CONFIG": str(config)}


def prepare_onnx_copies() -> float:
    """Make the cached ONNX copies now (a no-op when they exist), so no timed run includes them."""
    started = time.perf_counter()
    code = ("from pathlib import Path; from desktop_rag.config import default_cache_dir; "
            "from desktop_rag.core.models.onnx_embedder import OnnxEmbedder; "
            "e = OnnxEmbedder(batch_size=8, cache_dir=default_cache_dir() / 'models'); "
            "e.embed(['a']); e.embed_documents(['a'])")
    run_alone([python(), "-c", code])
    return time.perf_counter() - started


def ingest(backend: str, docs: list[str]) -> tuple[MeasuredRun, Path, dict[str, str]]:
    data = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{backend}-"))
    env = backend_env(backend, data)
    return run_alone([python(), "-m", "desktop_rag", "--data-dir", str(data), "ingest", *docs], env), data, env


def ingest_row(label: str, run: MeasuredRun, data: Path, env: dict[str, str],
               files: int) -> tuple[tuple[str, ...], float]:
    listing = json.loads(run_alone([python(), "-m", "desktop_rag", "--data-dir", str(data), "list", "--json"],
                                      env).stdout)
    indexed = [d for d in listing if d["status"] == DocumentStatus.INDEXED]
    pages, chunks = sum(d["pages"] for d in indexed), sum(d["chunks"] for d in indexed)
    failed = len(listing) - len(indexed)
    row = (label, str(files), str(failed), str(pages), str(chunks), f"{run.seconds:.1f}",
           f"{pages / run.seconds:.2f}", f"{run.peak_rss_mb:.0f}", f"{run.cpu_s:.0f}")
    return row, pages / run.seconds


def baseline(docs: list[str], ours: float) -> tuple[str, ...]:
    base = run_alone([python(), str(Path(__file__).parent / "langchain_style.py"), *docs])
    result = json.loads(base.stdout.strip().splitlines()[-1])
    for failure in result["failed"]:
        print(f"baseline failure: {failure}")
    rate = result["pages"] / base.seconds
    print(f"throughput ratio (pages/s, desktop-rag default / baseline): {ours / rate:.2f}x")
    return ("langchain-style (pypdf, 1000/200 chars)", str(len(docs)), str(len(result["failed"])),
            str(result["pages"]), str(result["chunks"]), f"{base.seconds:.1f}", f"{rate:.2f}",
            f"{base.peak_rss_mb:.0f}", f"{base.cpu_s:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--backends", default="torch", help="other embedding backends to time (comma-separated)")
    args = parser.parse_args()
    docs = sorted(str(p) for p in DOCS.glob("*.pdf"))
    print(f"before: {load()}; ONNX copies ready in {prepare_onnx_copies():.1f} s (made once, cached)")
    rows = [("pipeline", "files", "failed", "pages", "chunks", "seconds", "pages/s", "peak RSS MB", "CPU s")]
    first, data, env = ingest("default", docs)
    summary = first.stderr.strip().splitlines()[-1] if first.stderr.strip() else ""
    print(f"ingest exit code {first.returncode}; {summary}")
    row, ours = ingest_row("desktop-rag ingest (defaults)", first, data, env, len(docs))
    rows.append(row)
    for backend in filter(None, args.backends.split(",")):
        run, other, other_env = ingest(backend, docs)
        rows.append(ingest_row(f"desktop-rag ingest (embedding_backend={backend})", run, other, other_env,
                               len(docs))[0])
    if not args.skip_baseline:
        rows.append(baseline(docs, ours))
    rerun = run_alone([python(), "-m", "desktop_rag", "--data-dir", str(data), "ingest", *docs], env)
    print(table(rows))
    print(f"re-run of the same ingest: {rerun.seconds:.2f} s (exit code {rerun.returncode}); "
          f"{rerun.stderr.strip().splitlines()[-1] if rerun.stderr.strip() else ''}")
    match = re.search(r"indexed (\d+), skipped (\d+), failed (\d+)", rerun.stderr)
    if match:
        print(f"re-run: indexed {match.group(1)}, skipped {match.group(2)}, failed {match.group(3)}")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
