"""Ingestion benchmark on the SEC 10-Q corpus (20 filings, 1,037 pages), as the README reports it.

1. desktop-rag ingest into an empty data dir, default settings (a CLI subprocess): wall time,
   pages/s, failures, peak resident memory (the largest of the app and its extraction child;
   measured first, before any other child of this script runs).
2. The same command again over the same files: the re-run time a user waits.
3. A LangChain-tutorial-style pipeline (benchmarks/langchain_style.py) over the same files in the
   same run: throughput ratio.

Prints a table; asserts nothing. Usage: python benchmarks/bench_ingest.py [--skip-baseline]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCS, python, run_measured, table  # noqa: E402

from desktop_rag.core.types import DocumentStatus  # noqa: E402


def main() -> None:
    docs = sorted(str(p) for p in DOCS.glob("*.pdf"))
    data = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    cli = [python(), "-m", "desktop_rag", "--data-dir", str(data), "ingest", *docs]
    first = run_measured(cli)
    summary = first.stderr.strip().splitlines()[-1] if first.stderr.strip() else ""
    listing = json.loads(run_measured([python(), "-m", "desktop_rag", "--data-dir", str(data), "list", "--json"]).stdout)
    indexed = [d for d in listing if d["status"] == DocumentStatus.INDEXED]
    pages, chunks = sum(d["pages"] for d in indexed), sum(d["chunks"] for d in indexed)
    failed = [d for d in listing if d["status"] != DocumentStatus.INDEXED]
    rerun = run_measured(cli)
    rows = [("pipeline", "files", "failed", "pages", "chunks", "seconds", "pages/s", "peak RSS MB")]
    rows.append(("desktop-rag ingest", str(len(docs)), str(len(failed)), str(pages), str(chunks),
                 f"{first.seconds:.1f}", f"{pages / first.seconds:.2f}", f"{first.peak_rss_mb:.0f}"))
    print(f"ingest exit code {first.returncode}; {summary}")
    if "--skip-baseline" not in sys.argv:
        base = run_measured([python(), str(Path(__file__).parent / "langchain_style.py"), *docs])
        result = json.loads(base.stdout.strip().splitlines()[-1])
        rows.append(("langchain-style (pypdf, 1000/200 chars)", str(len(docs)), str(len(result["failed"])),
                     str(result["pages"]), str(result["chunks"]), f"{base.seconds:.1f}",
                     f"{result['pages'] / base.seconds:.2f}", ""))
        for failure in result["failed"]:
            print(f"baseline failure: {failure}")
        print(f"throughput ratio (pages/s, desktop-rag / baseline): "
              f"{(pages / first.seconds) / (result['pages'] / base.seconds):.2f}x")
    print(table(rows))
    print(f"re-run of the same ingest: {rerun.seconds:.2f} s (exit code {rerun.returncode}); "
          f"{rerun.stderr.strip().splitlines()[-1] if rerun.stderr.strip() else ''}")
    match = re.search(r"indexed (\d+), skipped (\d+), failed (\d+)", rerun.stderr)
    if match:
        print(f"re-run: indexed {match.group(1)}, skipped {match.group(2)}, failed {match.group(3)}")


if __name__ == "__main__":
    main()
