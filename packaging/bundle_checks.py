"""Checks of the frozen app's output for ``make bundle-test`` (packaging/bundle-test.sh).

Runs in the build environment, never in the clean one the frozen app runs in: it only reads the
JSON the app printed. Each check prints one line and exits 1 with the reason when it fails.

Usage: python packaging/bundle_checks.py CHECK FILE [ARG...]
  gui REPORT.json                   the window painted and both models loaded
  list LIST.json NAME...            the named documents are indexed; those named ocr:NAME by OCR
  limit LIST.json BOMB GOOD MB      BOMB failed on the MB memory limit; GOOD, after it, was indexed
  search HITS.json FILE             hits found, the first from FILE, each with a page
  ask ANSWER.json TEXT FILE...      an answer citing pages of the given files only, one holding TEXT
  refused STDERR.txt TEXT           the app refused with TEXT and printed no traceback
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def fail(reason: str) -> None:
    print(f"FAIL: {reason}")
    sys.exit(1)


def read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: not the JSON expected ({exc})")


def check_gui(report: str) -> str:
    times = read(report)
    for key in ("window_visible_s", "embedder_ready_s", "llm_ready_s"):
        if key not in times:
            fail(f"the GUI start-up report has no {key}: {times}")
    return (f"window shown {times['window_visible_s']:.2f} s, embedder ready {times['embedder_ready_s']:.2f} s, "
            f"chat model ready {times['llm_ready_s']:.2f} s after launch")


def check_list(listing: str, *names: str) -> str:
    docs = {d["file"]: d for d in read(listing)}
    scans = [n.removeprefix("ocr:") for n in names if n.startswith("ocr:")]
    names = tuple(n.removeprefix("ocr:") for n in names)
    for name in names:
        doc = docs.get(name)
        if doc is None or doc["status"] != "indexed" or doc["chunks"] < 1:
            fail(f"{name} is not indexed: {doc}")
    for scan in scans:
        if not docs[scan]["ocr_pages"]:
            fail(f"{scan} was not read by OCR: {docs[scan]}")
    counts = ", ".join(f"{n}: {docs[n]['pages']} pages, {docs[n]['chunks']} chunks" for n in names)
    return f"{len(names)} documents indexed ({counts}" + "".join(f"; {s} read by OCR" for s in scans) + ")"


def check_limit(listing: str, bomb: str, good: str, memory_mb: str) -> str:
    docs = {d["file"]: d for d in read(listing)}
    if docs.get(bomb, {}).get("status") != "failed" or f"{memory_mb} MB" not in docs[bomb]["error"]:
        fail(f"{bomb} did not fail on the {memory_mb} MB limit: {docs.get(bomb)}")
    if docs.get(good, {}).get("status") != "indexed":
        fail(f"{good} was not indexed after the child was stopped: {docs.get(good)}")
    return f"{bomb} stopped ({docs[bomb]['error']}); {good} indexed by a fresh child"


def check_search(hits_file: str, expected: str) -> str:
    hits = read(hits_file)
    if not hits:
        fail("search found nothing")
    if hits[0]["file"] != expected:
        fail(f"the first hit is from {hits[0]['file']}, not {expected}")
    if any(not isinstance(h["page"], int) or h["page"] < 1 for h in hits):
        fail(f"a hit without a page: {hits}")
    return f"{len(hits)} hits, the first {hits[0]['file']} page {hits[0]['page']}"


def check_ask(answer_file: str, expected: str, *files: str) -> str:
    answer = read(answer_file)
    if not answer["answer"].strip() or answer["found_nothing"]:
        fail(f"no answer: {answer['answer']!r}")
    citations = answer["citations"]
    if not citations:
        fail(f"the answer cites nothing: {answer['answer']!r}")
    for c in citations:
        if c["file"] not in files or not isinstance(c["page"], int) or c["page"] < 1:
            fail(f"a citation outside the documents asked about, or without a page: {c}")
    if not any(expected in c["text"] for c in citations):
        fail(f"no cited passage holds {expected!r}: {[(c['file'], c['page']) for c in citations]}")
    places = ", ".join(f"[{c['n']}] {c['file']} p.{c['page']}" for c in citations)
    stated = "states" if expected in answer["answer"] else "does not state"
    return f"{answer['answer']!r} ({stated} {expected}; model {answer['model']}), citing {places}"


def check_refused(stderr_file: str, text: str) -> str:
    err = Path(stderr_file).read_text(encoding="utf-8", errors="replace")
    if "Traceback" in err:
        fail(f"a traceback instead of a message:\n{err}")
    if text not in err:
        fail(f"the message does not say {text!r}:\n{err}")
    return f"refused clearly: {err.strip().splitlines()[-1][:160]}"


CHECKS = {"gui": check_gui, "list": check_list, "limit": check_limit, "search": check_search, "ask": check_ask, "refused": check_refused}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CHECKS:
        fail(f"usage: {Path(__file__).name} {{{','.join(CHECKS)}}} FILE [ARG...]")
    print(f"ok: {CHECKS[sys.argv[1]](*sys.argv[2:])}")
