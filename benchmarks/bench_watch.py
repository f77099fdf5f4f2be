"""Watched folders: a folder of 50 mixed files indexed, then changes picked up while the app runs.
Prints tables; asserts nothing.

The folder is made from the SEC corpus and generated text: 12 text PDFs (3-page extracts of the
filings), 2 image-only PDFs (pages rendered to pictures: no text layer), 9 each of .docx, .md, .html
and .txt (the filings' page text under headings), plus a lock file and a hidden file that must be
left alone. For each front (``--front gui``: a real window with the real models, offscreen unless
DISPLAY is set; ``--front cli``: ``desktop-rag watch run`` in a process of its own):

1. the folder is watched and indexed from scratch: files indexed / failed, seconds;
2. one file of each kind is changed (saved) in turn: seconds from the save to its new copy stored;
3. one Markdown file is saved 10 times in a row, 0.2 s apart: how many times it was indexed;
4. one file is deleted: seconds until its document is gone.

Usage: ``python benchmarks/bench_watch.py [--front gui|cli|both] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, ROOT, python, table  # noqa: E402

KINDS = ("md", "docx", "txt", "html", "pdf")
TIMEOUT_S = 900


# ---------------------------------------------------------------------- the folder


def page_texts(pdf: Path, first: int, count: int) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(first, min(first + count, len(doc)))]
    finally:
        doc.close()


def pdf_extract(src: Path, first: int, out: Path, count: int = 3) -> None:
    import pypdfium2 as pdfium

    source, new = pdfium.PdfDocument(str(src)), pdfium.PdfDocument.new()
    new.import_pages(source, list(range(first, first + count)))
    new.save(str(out))
    new.close()
    source.close()


def image_pdf(src: Path, page: int, out: Path) -> None:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(src))
    images = [doc[i].render(scale=1.5).to_pil().convert("RGB") for i in (page, page + 1)]
    doc.close()
    images[0].save(out, "PDF", resolution=108.0, save_all=True, append_images=images[1:])


def paragraphs(text: str) -> list[str]:
    """Blocks of about 400 characters or less, cut at blank lines, with only characters XML allows."""
    text = text.replace("\r\n", "\n").replace("\ufffe", "")  # pdfium marks a soft hyphen with U+FFFE
    clean = "".join(c if c == "\n" or " " <= c < "\ud800" or "\ue000" <= c < "\ufffe" else " " for c in text)
    blocks: list[str] = []
    current: list[str] = []
    for line in [" ".join(line.split()) for line in clean.splitlines()] + [""]:
        if line:
            current.append(line)
        if current and (not line or len(" ".join(current)) > 400):
            blocks.append(" ".join(current))
            current = []
    return blocks


def write_kind(kind: str, path: Path, title: str, texts: list[str]) -> None:
    sections = [(f"{title}, part {i + 1}", paragraphs(t) or ["(empty page)"]) for i, t in enumerate(texts)]
    if kind == "docx":
        import docx

        document = docx.Document()
        document.add_heading(title, 0)
        for heading, paras in sections:
            document.add_heading(heading, 1)
            for p in paras:
                document.add_paragraph(p)
        document.save(str(path))
    elif kind == "md":
        path.write_text(f"# {title}\n\n" + "".join(f"## {h}\n\n" + "\n\n".join(ps) + "\n\n" for h, ps in sections))
    elif kind == "html":
        body = "".join(f"<h2>{h}</h2>" + "".join(f"<p>{p}</p>" for p in ps) for h, ps in sections)
        path.write_text(f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>")
    else:
        path.write_text(f"{title}\n\n" + "\n\n".join(p for _, ps in sections for p in ps) + "\n")


def make_folder(folder: Path) -> dict[str, Path]:
    """The 50 files (and two to be left alone); returns one file of each kind to change later."""
    filings = sorted(DOCS.glob("*.pdf"))
    (folder / "pdf").mkdir(parents=True)
    for i in range(12):
        pdf_extract(filings[i % len(filings)], 3 + 3 * (i // len(filings)), folder / "pdf" / f"extract-{i:02d}.pdf")
    for i in range(2):
        image_pdf(filings[i + 5], 2, folder / "pdf" / f"scanned-{i}.pdf")
    for k, kind in enumerate(("docx", "md", "html", "txt")):
        (folder / kind).mkdir()
        for i in range(9):
            src = filings[(i + 3 * k) % len(filings)]
            write_kind(kind, folder / kind / f"{src.stem}-{i}.{kind}", f"{src.stem} notes {i}",
                       page_texts(src, 6 + i, 2))
    (folder / "docx" / "~$lock.docx").write_bytes(b"an Office lock file")
    (folder / ".hidden.md").write_text("# hidden\n")
    return {kind: sorted((folder / kind).glob(f"*.{kind}"))[0] for kind in KINDS}


def change(path: Path, n: int) -> None:
    """Save a changed copy of ``path`` (new text at the end; a PDF gets other pages)."""
    if path.suffix == ".pdf":
        filings = sorted(DOCS.glob("*.pdf"))
        tmp = path.with_name(".saving.pdf")
        pdf_extract(filings[(n + 7) % len(filings)], 10 + n, tmp)
        os.replace(tmp, path)
    elif path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        document.add_paragraph(f"Edit number {n}: the board approved a new buy-back of {n * 3} billion dollars.")
        document.save(str(path))
    else:
        with path.open("a") as fh:
            fh.write(f"\n\nEdit number {n}: the board approved a new buy-back of {n * 3} billion dollars.\n")


# ---------------------------------------------------------------------- reading the library


def stored(lib: Path) -> dict[str, tuple[str, str]]:
    """{path: (status, sha256)} of every document, read with a connection of its own."""
    db = sqlite3.connect(f"file:{lib / 'library.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return {os.fsdecode(p): (s, h) for p, s, h in db.execute("SELECT path, status, sha256 FROM documents")}
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------- the measurements


def measure(lib: Path, folder: Path, samples: dict[str, Path], spin: Callable[[Callable[[], bool], float], None],
            count_indexed: Callable[[str], int]) -> dict[str, object]:
    """Steps 1-4 against a running front; ``spin(condition, timeout)`` keeps it running while waiting."""
    out: dict[str, object] = {}
    started = time.perf_counter()
    spin(lambda: len(stored(lib)) >= 50, TIMEOUT_S)
    out["initial_s"] = time.perf_counter() - started
    docs = stored(lib)
    out["indexed"] = sum(s == "indexed" for s, _ in docs.values())
    out["failed"] = sorted(Path(p).name for p, (s, _) in docs.items() if s == "failed")
    out["left_alone"] = [n for n in ("~$lock.docx", ".hidden.md") if any(Path(p).name == n for p in docs)]
    spin(lambda: False, 3.0)  # let the queue settle
    latencies = {}
    for n, kind in enumerate(KINDS, start=1):
        path = samples[kind]
        change(path, n)
        saved, want = time.perf_counter(), sha(path)
        spin(lambda: stored(lib).get(str(path), ("", ""))[1] == want, 120)
        latencies[kind] = time.perf_counter() - saved
    out["latency_s"] = latencies
    md = samples["md"]
    before = count_indexed(str(md))
    for n in range(10):
        change(md, 100 + n)
        time.sleep(0.2)
    want = sha(md)
    spin(lambda: stored(lib).get(str(md), ("", ""))[1] == want, 120)
    spin(lambda: False, 4.0)
    out["burst_indexings"] = count_indexed(str(md)) - before
    victim = samples["txt"]
    victim.unlink()
    gone = time.perf_counter()
    spin(lambda: str(victim) not in stored(lib), 120)
    out["delete_s"] = time.perf_counter() - gone
    return out


def run_cli(lib: Path, folder: Path, samples: dict[str, Path]) -> dict[str, object]:
    env = {**os.environ, "DESKTOP_RAG_CONFIG": str(lib.parent / "settings.toml")}
    subprocess.run([python(), "-m", "desktop_rag", "--data-dir", str(lib), "watch", "add", "--no-index", str(folder)],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    log = open(lib.parent / "watch-run.log", "w+")
    proc = subprocess.Popen([python(), "-m", "desktop_rag", "--data-dir", str(lib), "watch", "run"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def spin(condition: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)

    def count_indexed(path: str) -> int:
        log.flush()
        return sum(line.startswith(f"indexed {path} ") for line in (lib.parent / "watch-run.log").read_text().splitlines())

    try:
        return measure(lib, folder, samples, spin, count_indexed)
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def run_gui(lib: Path, folder: Path, samples: dict[str, Path]) -> dict[str, object]:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DESKTOP_RAG_CONFIG"] = str(lib.parent / "settings.toml")
    from PySide6.QtWidgets import QApplication

    from bench_gui import wait
    from desktop_rag.app import create_window
    from desktop_rag.config import Settings
    from desktop_rag.core.types import Stage
    from desktop_rag.ui.notifications import NotificationManager

    app = QApplication.instance() or QApplication([])
    window = create_window(Settings(data_dir=str(lib)), NotificationManager(str(lib.parent / "gui.log")))
    window.show()
    indexed: list[str] = []
    window.engine.ingest_progressed.connect(lambda e: indexed.append(e.path) if e.stage == Stage.INDEXED else None)

    def spin(condition: Callable[[], bool], timeout: float) -> None:
        try:
            wait(app, condition, timeout)
        except TimeoutError:
            pass

    try:
        window.watching.watch(str(folder))  # what "Watch a folder…" does with the folder chosen
        return measure(lib, folder, samples, spin, indexed.count)
    finally:
        window.close()
        spin(lambda: window._closed, 120)


def report(front: str, r: dict[str, object]) -> None:
    lat: dict[str, float] = r["latency_s"]  # type: ignore[assignment]
    print(f"\n== {front}: 50 files (12 PDF, 2 image-only PDF, 9 each .docx .md .html .txt) ==")
    print(f"initial indexing: {r['indexed']} indexed, {len(r['failed'])} failed {r['failed']} "
          f"in {r['initial_s']:.1f} s; lock/hidden files indexed: {r['left_alone'] or 'none'}")
    rows = [("changed file", "save -> stored (s)", "within 5 s")]
    rows += [(kind, f"{s:.2f}", "yes" if s <= 5 else "NO") for kind, s in lat.items()]
    print(table(rows))
    print(f"median {statistics.median(lat.values()):.2f} s, max {max(lat.values()):.2f} s; "
          f"10 saves 0.2 s apart -> indexed {r['burst_indexings']} time(s); "
          f"deleted file gone from the library after {r['delete_s']:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--front", choices=("gui", "cli", "both"), default="both")
    parser.add_argument("--keep", type=Path, help="make the folders and libraries here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-watch-"))
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average, {os.cpu_count()} CPUs)")
    for front in (("cli", "gui") if args.front == "both" else (args.front,)):
        folder, lib = base / front / "Watched", base / front / "lib"
        shutil.rmtree(base / front, ignore_errors=True)
        samples = make_folder(folder)
        result = (run_cli if front == "cli" else run_gui)(lib, folder, samples)
        report("desktop-rag watch run" if front == "cli" else "the window (real models)", result)
        print(f"load after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
