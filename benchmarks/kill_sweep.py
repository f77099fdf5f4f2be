"""kill -9 at the disk writes of an ingest and of a remove: nothing stored is lost, nothing is corrupt.

Each run copies a library holding one indexed document, starts ``desktop-rag ingest`` of two more
documents (or ``remove`` of the indexed one) under strace, and has strace send SIGKILL just before
the K-th call of one write-path system call (``pwrite64`` (SQLite's pages, its journal and WAL),
``write``, ``fsync``, ``fdatasync``, ``ftruncate``, ``rename``/``renameat2``, ``unlink``/``unlinkat``),
K sampled evenly over the calls a clean run makes. Then, as a user would carry on:
  1. the database passes ``PRAGMA integrity_check``;
  2. ``list --json`` works; every document is complete (indexed, with pages, chunks and a vector per
     chunk) or absent; the document indexed before is untouched;
  3. ``search --json`` works and finds that document;
  4. running the same command again leaves the same documents and chunk counts as a clean run (an
     ingest exits 0; a remove of a document the killed run already removed says so, exit 1).
Prints one row per kill and a summary; asserts nothing (exit status 1 when any check failed).

Usage: python benchmarks/kill_sweep.py [--points N] [--work DIR]   (needs strace)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sec-10-q" / "docs"
SYSCALLS = ("pwrite64", "write", "fsync", "fdatasync", "ftruncate", "rename", "renameat2", "unlink", "unlinkat")
KEPT, ADDED = "2022 Q3 AAPL.pdf", ("2023 Q1 NVDA.pdf", "notes.md")
NOTES = "# Quarterly notes\n\n## Supply\n\nComponent supply stayed tight through the quarter.\n\n" \
        "## Outlook\n\nThe team expects revenue to grow in the next quarter.\n"


def cli(data: Path, *args: str, strace: list[str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "desktop_rag", "--data-dir", str(data), *args]
    return subprocess.run([*(strace or []), *cmd], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))


def call_counts(data: Path, args: list[str], work: Path) -> dict[str, int]:
    """How many times a clean run of the command makes each write-path call (strace -c)."""
    summary = work / "counts.txt"
    done = cli(data, *args, strace=["strace", "-f", "-qq", "-c", "-o", str(summary), "-e",
                                    "trace=" + ",".join(SYSCALLS)])
    if done.returncode != 0:
        raise SystemExit(f"the clean run failed: {done.stderr[-500:]}")
    counts = {}
    for line in summary.read_text().splitlines():
        parts = line.split()
        if parts and parts[-1] in SYSCALLS and len(parts) >= 5:
            counts[parts[-1]] = int(parts[3])
    return counts


def state(data: Path) -> dict[str, object]:
    """Documents and what the store holds for each, read straight from SQLite."""
    db = sqlite3.connect(f"file:{data / 'library.sqlite3'}?mode=ro", uri=True)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        docs = {}
        for doc_id, path, status in db.execute("SELECT id, path, status FROM documents"):
            pages = db.execute("SELECT count(*) FROM pages WHERE doc_id = ?", (doc_id,)).fetchone()[0]
            chunks, vectors = db.execute("SELECT count(*), count(vector) FROM chunks WHERE doc_id = ?",
                                         (doc_id,)).fetchone()
            docs[Path(path).name] = (status, pages, chunks, vectors)
    finally:
        db.close()
    return {"integrity": integrity, "docs": docs}


def whole_or_absent(docs: dict[str, tuple]) -> bool:
    return all((status == "indexed" and pages > 0 and chunks > 0 and vectors == chunks)
               or (status != "indexed" and chunks == 0) for status, pages, chunks, vectors in docs.values())


def one_kill(base: Path, args: list[str], call: str, nth: int, clean: dict, work: Path) -> dict[str, object]:
    data = work / f"lib-{call}-{nth}"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(base, data)
    killed = cli(data, *args, strace=["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}",
                                      "-e", f"inject={call}:signal=KILL:when={nth}"])
    after = state(data)
    listed = cli(data, "list", "--json")
    found = cli(data, "search", "net sales", "--k", "3", "--json")
    hits = json.loads(found.stdout) if found.returncode == 0 and found.stdout.strip() else []
    again = cli(data, *args)
    final = state(data)
    shutil.rmtree(data, ignore_errors=True)
    kept_before, kept_after = clean["before"].get(KEPT), after["docs"].get(KEPT)
    removing = args[0] == "remove"
    return {"call": call, "nth": nth, "rc": killed.returncode,
            "integrity": after["integrity"], "list": listed.returncode == 0,
            # the document indexed before is untouched (or, for a remove, untouched or gone)
            "whole": whole_or_absent(after["docs"]) and (kept_after == kept_before
                                                         or (removing and kept_after is None)),
            "search": found.returncode == 0 and (removing or any(KEPT in json.dumps(h) for h in hits)),
            # running it again finishes the job (a remove of what is already gone says so, exit 1)
            "rerun": (again.returncode == 0 or removing) and final["docs"] == clean["after"]}


def sample(count: int, points: int) -> list[int]:
    if count <= points:
        return list(range(1, count + 1))
    if points == 1:
        return [(count + 1) // 2]
    return sorted({1 + round(i * (count - 1) / (points - 1)) for i in range(points)})


def sweep(base: Path, args: list[str], points: int, work: Path) -> list[dict[str, object]]:
    trial = work / "trial"
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(base, trial)
    counts = call_counts(trial, args, work)
    clean = {"before": state(base)["docs"], "after": state(trial)["docs"]}
    print(f"\n{' '.join(args[:1])}: clean run's calls {counts}", flush=True)
    rows = []
    for call, count in counts.items():
        for nth in sample(count, points):
            row = one_kill(base, args, call, nth, clean, work)
            rows.append(row)
            ok = row["integrity"] == "ok" and all(row[k] for k in ("list", "whole", "search", "rerun"))
            print(f"  {call:<10} #{nth:<6} rc={row['rc']:<4} integrity={row['integrity']:<3} list={row['list']!s:<5} "
                  f"whole-or-absent={row['whole']!s:<5} search={row['search']!s:<5} rerun={row['rerun']!s:<5} "
                  f"{'OK' if ok else 'FAILED'}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4, help="kills per system call and command (default 4)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    if shutil.which("strace") is None:
        sys.exit("strace is not installed")
    work = args.work or Path(tempfile.mkdtemp(prefix="kill-sweep-"))
    inputs = work / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / KEPT, inputs / KEPT)
    shutil.copy(CORPUS / ADDED[0], inputs / ADDED[0])
    (inputs / ADDED[1]).write_text(NOTES, encoding="utf-8")
    base = work / "base"
    shutil.rmtree(base, ignore_errors=True)
    if cli(base, "ingest", str(inputs / KEPT)).returncode != 0:
        sys.exit("could not build the starting library")
    rows = sweep(base, ["ingest", *(str(inputs / name) for name in ADDED)], args.points, work)
    rows += sweep(base, ["remove", KEPT], args.points, work)
    failed = [r for r in rows if not (r["integrity"] == "ok" and all(r[k] for k in ("list", "whole", "search", "rerun")))]
    killed = sum(1 for r in rows if r["rc"] in (-9, 137))
    print(f"\n{len(rows)} runs, {killed} killed mid-way, {len(failed)} failed a check")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
