"""``desktop-rag ingest | list | remove``: what the library holds (and, for ``ingest``, which
collections the files join: see :mod:`desktop_rag.folder_collections`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from desktop_rag.cli.output import EXIT_FAILED, EXIT_OK, BarStyle, drive, print_json
from desktop_rag.config import Settings
from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.text import counted
from desktop_rag.core.types import DocumentInfo, DocumentStatus, IngestProgress, IngestReport, Stage
from desktop_rag.folder_collections import Plan, collection_plan, join_collections
from desktop_rag.services import Services

if TYPE_CHECKING:
    from tqdm import tqdm

INGEST_INTERRUPTED = "\ninterrupted: documents already indexed are kept; run the same command again to finish"


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    plan = collection_plan(args.paths, into=args.collection, by_folder=not args.no_collection)
    with Services(settings) as services:
        services.store.require_writable()  # a read-only library: refused before any file is looked at
        ingestion = join_collections(services.store, services.ingestion().run(args.paths), plan)
        report = drive(ingestion, _show_ingest_progress, bar=BarStyle(unit="file", leave=True),
                       interrupted=INGEST_INTERRUPTED)
        _print_ingest_summary(report)
        _print_collections(services, plan)
    return EXIT_FAILED if report.failed else EXIT_OK


def _print_collections(services: Services, plan: Plan) -> None:
    for name in dict.fromkeys(n for names in plan.values() for n in names):
        collection = services.store.collections.named(name)
        if collection is not None:
            n = collection.count
            print(f"collection {collection.name!r}: {n} document{'s' if n != 1 else ''}", file=sys.stderr)


def _show_ingest_progress(event: IngestProgress, bar: tqdm) -> None:
    bar.total = event.file_count
    name = display_name(event.path)
    detail = f"{event.chunks_done}/{event.chunks_total} chunks" if event.chunks_total else ""
    if event.stage == Stage.EXTRACTING and event.message:  # reading page 3 of 40 (OCR)
        detail = event.message
    bar.set_description_str(f"{name[:40]} {event.stage.value} {detail}".rstrip())
    if event.is_final:
        bar.update(1)
        if event.stage == Stage.FAILED:
            bar.write(f"failed: {event.message}", file=sys.stderr)


def _print_ingest_summary(report: IngestReport) -> None:
    pages = report.pages
    rate = f", {pages / report.seconds:.1f} pages/s" if pages and report.seconds else ""
    print(
        f"indexed {len(report.indexed)}, skipped {len(report.skipped)}, failed {len(report.failed)} "
        f"({counted(pages, 'page')} in {report.seconds:.1f} s{rate})",
        file=sys.stderr,
    )
    for outcome in report.skipped:
        print(f"  skipped {display_path(outcome.path)}: {outcome.message}", file=sys.stderr)
    for outcome in report.failed:
        print(f"  FAILED  {outcome.message}", file=sys.stderr)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with Services(settings) as services:
        docs = services.store.documents()
        stats = services.store.stats()
        collections = services.store.collections.names_by_document()
    if args.json:
        print_json([
            {"file": d.name, "path": d.path, "pages": d.page_count, "chunks": d.chunk_count,
             "status": d.status, "error": d.error, "sha256": d.sha256, "size": d.size,
             "collections": collections.get(d.id, []), "ocr_pages": d.ocr_pages}
            for d in docs
        ])
        return EXIT_OK
    if not docs:
        print("The library is empty. Add documents with: desktop-rag ingest PATH...", file=sys.stderr)
        return EXIT_OK
    names = {d.id: ", ".join(collections.get(d.id, [])) or "-" for d in docs}
    width, in_width = max(len(d.name) for d in docs), max(len("COLLECTIONS"), *(len(n) for n in names.values()))
    print(f"{'FILE':<{width}}  {'PAGES':>5}  {'CHUNKS':>6}  {'COLLECTIONS':<{in_width}}  STATUS")
    for d in docs:
        status = _ocr_status(d) if d.status == DocumentStatus.INDEXED else f"{d.status}: {d.error}"
        print(f"{d.name:<{width}}  {d.page_count:>5}  {d.chunk_count:>6}  {names[d.id]:<{in_width}}  {status}")
    print(f"{counted(stats['documents'], 'document')}, {counted(stats['pages'], 'page')}, "
          f"{counted(stats['chunks'], 'chunk')}"
          + (f", {stats['failed']} failed" if stats["failed"] else ""))
    return EXIT_OK


def _ocr_status(doc: DocumentInfo) -> str:
    """'indexed', and which of its pages were read by OCR (scans)."""
    if not doc.ocr_pages:
        return str(doc.status)
    if doc.ocr_pages >= doc.page_count:
        return f"{doc.status} (OCR)"
    return f"{doc.status} (OCR: {doc.ocr_pages} page{'s' if doc.ocr_pages != 1 else ''})"


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    status = EXIT_OK
    with Services(settings) as services:
        services.store.require_writable()
        docs = services.store.documents()
        for given in args.files:
            match = _one_match(given, docs)
            if match is None:
                status = EXIT_FAILED
                continue
            services.store.remove_document(match.id)
            print(f"removed {display_path(match.path)}", file=sys.stderr)
    return status


def _one_match(given: str, docs: Sequence[DocumentInfo]) -> DocumentInfo | None:
    """The document named by a path or, failing that, a file name, as the file system has them or as
    'list' shows them (a name that is not UTF-8 with U+FFFD); None (and why, on stderr) if not one."""
    absolute = str(Path(given).expanduser().absolute())
    matches = ([d for d in docs if d.path == absolute] or [d for d in docs if display_path(d.path) == absolute]
               or [d for d in docs if d.name in (given, display_name(given))])
    if not matches:
        print(f"error: {display_path(given)}: not in the library (see 'desktop-rag list')", file=sys.stderr)
        return None
    if len(matches) > 1:
        print(f"error: {display_path(given)}: several documents have this name; give the full path:", file=sys.stderr)
        for d in matches:
            print(f"  {display_path(d.path)}", file=sys.stderr)
        return None
    return matches[0]
