"""OCR benchmark: SEC filings with some pages swapped for image-only scans, read back by OCR.

1. Pages: those the labelled questions of ``benchmarks/data/sec_page_labels.jsonl`` cite, question by
   question, until ``--pages`` pages (default 100) are taken.
2. Two libraries of the 20 filings, each indexed into an empty data folder with the default settings
   (the real embedder; OCR on), timed: the originals, and copies in which each chosen page is replaced
   by its picture (rendered at ``--dpi``, default 150, in grey, wrapped as an image-only PDF page by
   Pillow, as a scanner would make it). Every other page, and the page numbers, stay the same, so
   search has the whole corpus to get wrong in both.
3. OCR pages/s: the pages read by OCR over the time the scans' library spent extracting, less the
   originals' extraction time (taken from the pipeline's progress events).
4. Character error rate of each OCR page against the text layer of the same page of the original
   (whitespace runs made one space; edit distance over the original's length), overall and worst pages.
5. Search: each question whose cited pages are all among the chosen pages, in both libraries (default
   mode, k=5): page hit@5 (a hit's pages include a cited page) and document hit@5.

Prints tables; asserts nothing. Start small while developing (``--pages 10``): OCR takes seconds a page.
Usage: python benchmarks/bench_ocr.py [--pages 100] [--dpi 150] [--work DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCS, table  # noqa: E402

from desktop_rag.config import Settings  # noqa: E402
from desktop_rag.core.types import Events, Stage  # noqa: E402
from desktop_rag.services import Services  # noqa: E402

LABELS = Path(__file__).parent / "data" / "sec_page_labels.jsonl"
K = 5

def pick_pages(count: int) -> tuple[list[dict], dict[str, list[int]]]:
    """The questions taken and {file: its pages, ascending}: questions in file order until ``count`` pages."""
    questions, pages = [], set()
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cited = {(p["file"], int(p["page"])) for p in row["pages"]}
        if not cited or len(pages | cited) > count:
            continue
        pages |= cited
        questions.append(row)
    by_file: dict[str, list[int]] = {}
    for name, number in sorted(pages):
        by_file.setdefault(name, []).append(number)
    return questions, by_file


def make_scanned_copies(by_file: dict[str, list[int]], target: Path, dpi: float) -> Path:
    """Every filing in ``target``, its chosen pages replaced by image-only pages of their pictures."""
    import pypdfium2 as pdfium

    target.mkdir(parents=True)
    for source_path in sorted(DOCS.glob("*.pdf")):
        chosen = by_file.get(source_path.name, [])
        source = pdfium.PdfDocument(str(source_path))
        scans = pdfium.PdfDocument(_pictures(source, chosen, dpi)) if chosen else None
        copy = pdfium.PdfDocument.new()
        for index in range(len(source)):
            if index + 1 in chosen:
                copy.import_pages(scans, [chosen.index(index + 1)])
            else:
                copy.import_pages(source, [index])
        copy.save(str(target / source_path.name))
        for doc in (copy, scans, source):
            if doc is not None:
                doc.close()
    return target


def _pictures(source: object, numbers: list[int], dpi: float) -> bytes:
    """An image-only PDF of pages ``numbers`` of ``source`` (a pdfium document), one picture a page."""
    images = [source[n - 1].render(scale=dpi / 72, grayscale=True).to_pil() for n in numbers]  # type: ignore[index]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def ingest(folder: Path, data: Path) -> tuple[float, float, int]:
    """Index ``folder`` into an empty library: (total seconds, seconds extracting, pages)."""
    started: dict[str, float] = {}
    extracting = 0.0
    t0 = time.perf_counter()
    with Services(Settings(data_dir=str(data))) as services:
        events = Events(services.ingestion().run([folder]))
        for event in events:
            if event.stage == Stage.EXTRACTING and event.path not in started:
                started[event.path] = time.perf_counter()
            elif event.stage == Stage.CHUNKING and event.path in started:
                extracting += time.perf_counter() - started[event.path]
        report = events.result
    assert report is not None
    if report.failed:
        print("failed:", *[o.message for o in report.failed], sep="\n  ", file=sys.stderr)
    return time.perf_counter() - t0, extracting, report.pages


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row of the table at a time in numpy (insertions by a running minimum)."""
    if not a or not b:
        return len(a) or len(b)
    codes_a = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, code in enumerate(codes_a, 1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + (codes_b != code))  # deletion, substitution
        row = np.minimum.accumulate(best - steps) + steps  # insertion: row[j-1] + 1
    return int(row[-1])


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def error_rates(text_data: Path, scan_data: Path) -> list[tuple[str, int, float, int]]:
    """(file, page, CER, characters of the original) for every page read by OCR in the scans' library."""
    rates = []
    with Services(Settings(data_dir=str(text_data))) as originals, Services(Settings(data_dir=str(scan_data))) as ocr:
        truth = {d.name: originals.store.page_texts_of(d.id) for d in originals.store.documents()}
        for doc in ocr.store.documents():
            texts = ocr.store.page_texts_of(doc.id)
            for number in ocr.store.page_words.numbers(doc.id):
                reference, read = squeeze(truth[doc.name][number - 1]), squeeze(texts[number - 1])
                rates.append((doc.name, number, edit_distance(read, reference) / max(1, len(reference)),
                              len(reference)))
    return rates


def search_hits(data: Path, questions: list[dict]) -> tuple[float, float, int]:
    """(page hit@5, document hit@5, questions) in the library at ``data``, default retrieval mode."""
    page_hits = doc_hits = 0
    settings = Settings(data_dir=str(data))
    with Services(settings) as services:
        retriever = services.retriever()
        for row in questions:
            gold = {(p["file"], int(p["page"])) for p in row["pages"]}
            hits = retriever.search(row["question"], k=K, mode=settings.retrieval_mode)
            page_hits += any((h.file, n) in gold for h in hits for n in range(h.page, h.page_end + 1))
            doc_hits += any(h.file in {name for name, _ in gold} for h in hits)
    n = len(questions)
    return 100 * page_hits / n, 100 * doc_hits / n, n


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--dpi", type=float, default=150.0, help="resolution of the scanned pages")
    parser.add_argument("--work", type=Path, help="folder for the PDFs and libraries (default: a temp folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    questions, by_file = pick_pages(args.pages)
    scan_dir = make_scanned_copies(by_file, work / "scans", args.dpi)
    print(f"{sum(map(len, by_file.values()))} pages of {len(by_file)} filings scanned at {args.dpi:g} dpi, "
          f"{len(questions)} questions; in {work}; cores: {os.cpu_count()}")
    print("load before:", uptime())
    text_time, text_extract, text_pages = ingest(DOCS, work / "lib-text")
    scan_time, scan_extract, scan_pages = ingest(scan_dir, work / "lib-scans")
    print("load after: ", uptime())
    rates = error_rates(work / "lib-text", work / "lib-scans")
    report(text_time, text_extract, text_pages, scan_time, scan_extract, scan_pages, len(rates))
    report_errors(rates)
    report_search(work, questions)


def report(text_time: float, text_extract: float, text_pages: int, scan_time: float, scan_extract: float,
           scan_pages: int, ocr_pages: int) -> None:
    ocr_seconds = max(scan_extract - text_extract, 1e-9)  # the same filings, less their text pages' share
    print()
    print(table([
        ("library", "pages", "ingest s", "pages/s", "extract s"),
        ("originals", str(text_pages), f"{text_time:.1f}", f"{text_pages / text_time:.2f}", f"{text_extract:.1f}"),
        ("with scans", str(scan_pages), f"{scan_time:.1f}", f"{scan_pages / scan_time:.2f}", f"{scan_extract:.1f}"),
    ]))
    print(f"OCR: {ocr_pages} pages in {ocr_seconds:.1f} s of extraction more: {ocr_pages / ocr_seconds:.2f} pages/s, "
          f"{ocr_seconds / max(ocr_pages, 1):.1f} s a page")


def report_errors(rates: list[tuple[str, int, float, int]]) -> None:
    chars = sum(r[3] for r in rates)
    overall = sum(r[2] * r[3] for r in rates) / max(1, chars)
    values = sorted(r[2] for r in rates)
    print(f"\ncharacter error rate (whitespace normalised): {100 * overall:.2f}% over {chars:,} characters; "
          f"median page {100 * values[len(values) // 2]:.2f}%, worst {100 * values[-1]:.2f}%")
    worst = sorted(rates, key=lambda r: -r[2])[:5]
    print(table([("worst pages", "page", "CER", "chars")]
                + [(name, str(page), f"{100 * cer:.1f}%", str(n)) for name, page, cer, n in worst]))


def report_search(work: Path, questions: list[dict]) -> None:
    rows = [("library", "questions", f"page hit@{K}", f"doc hit@{K}")]
    for label, data in (("originals", work / "lib-text"), ("with scans (OCR)", work / "lib-scans")):
        page, doc, n = search_hits(data, questions)
        rows.append((label, str(n), f"{page:.1f}%", f"{doc:.1f}%"))
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
