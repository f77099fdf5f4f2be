"""``desktop-rag watch [list | add | remove | run]``: folders the library keeps up to date by itself.

``add`` records the folder and indexes what it holds now (its files join a collection named after
it, as with ``ingest``); from then on the window (or ``watch run``, in a terminal) indexes new and
changed files, and removes the documents of deleted ones, as they happen. ``remove`` stops watching
and keeps the folder's documents. Hidden, temporary and lock files are never indexed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Callable

from desktop_rag.cli.library import _print_ingest_summary, _show_ingest_progress
from desktop_rag.cli.output import EXIT_FAILED, EXIT_OK, BarStyle, drive, print_json
from desktop_rag.config import Settings
from desktop_rag.core.filenames import display_path
from desktop_rag.core.ingest.watch_plan import plan_changes
from desktop_rag.core.store.library import Store
from desktop_rag.core.store.watched import is_within
from desktop_rag.core.text import counted
from desktop_rag.core.types import DocumentStatus, IngestProgress, IngestReport, Stage
from desktop_rag.folder_collections import collection_plan, join_collections
from desktop_rag.services import Services
from desktop_rag.watching import WatchNote, WatchService, stored_by_path, watch_loop

READING = frozenset({"list"})
STOP_HINT = "watching stopped"


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    actions: dict[str, Callable[[argparse.Namespace, Services], int]] = {
        "list": _list, "add": _add, "remove": _remove, "run": _run}
    action = args.action or "list"
    with Services(settings) as services:
        if action not in READING:
            services.store.require_writable()
        return actions[action](args, services)


def _counts(store: Store, folder: str) -> tuple[int, int]:
    """(indexed, failed) documents under ``folder``."""
    docs = [d for d in store.documents() if is_within(d.path, folder)]
    return (sum(d.status == DocumentStatus.INDEXED for d in docs), sum(d.status == DocumentStatus.FAILED for d in docs))


def _list(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    folders = store.watched.all()
    rows = [(f.path, os.path.isdir(f.path), *_counts(store, f.path)) for f in folders]
    if getattr(args, "json", False):
        print_json([{"folder": p, "present": there, "indexed": n, "failed": bad} for p, there, n, bad in rows])
        return EXIT_OK
    if not rows:
        print("No watched folders. Watch one with: desktop-rag watch add FOLDER", file=sys.stderr)
        return EXIT_OK
    for path, there, indexed, failed in rows:
        state = f"{indexed} indexed" + (f", {failed} failed" if failed else "")
        print(f"{display_path(path)}  ({state})" + ("" if there else "  NOT FOUND: its documents are kept"))
    return EXIT_OK


def _add(args: argparse.Namespace, services: Services) -> int:
    store = services.store
    folder, replaced = store.watched.add(args.folder)
    print(f"watching {display_path(folder.path)}", file=sys.stderr)
    for inner in replaced:
        print(f"  (it holds {display_path(inner)}, watched before: that entry is replaced)", file=sys.stderr)
    if args.no_index:
        return EXIT_OK
    plan = plan_changes([folder.path], [folder.path], stored_by_path(store))
    for doc in plan.remove:
        store.remove_document(doc.id)
    joins = {p: names for p, names in collection_plan([folder.path]).items() if p in set(plan.index)}
    ingestion = join_collections(store, services.ingestion().run(plan.index), joins)
    report: IngestReport = drive(ingestion, _show_ingest_progress, bar=BarStyle(unit="file", leave=True),
                                 interrupted="\ninterrupted: the folder stays watched; the rest is indexed "
                                             "at the next start of the app or of 'desktop-rag watch run'")
    _print_ingest_summary(report)
    print("new and changed files are indexed while the app runs (or 'desktop-rag watch run')", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def _remove(args: argparse.Namespace, services: Services) -> int:
    folder = services.store.watched.remove(args.folder)
    indexed, failed = _counts(services.store, folder.path)
    print(f"stopped watching {display_path(folder.path)}; its {indexed} indexed document"
          f"{'s' if indexed != 1 else ''} stay in the library", file=sys.stderr)
    return EXIT_OK


def _run(args: argparse.Namespace, services: Services) -> int:
    """Watch in the foreground until Ctrl+C, one line per change on stdout."""
    if not services.store.watched.all():
        print("no watched folders: add one with 'desktop-rag watch add FOLDER'", file=sys.stderr)
        return EXIT_FAILED
    service, stop = WatchService(args.quiet), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a service manager stops it as Ctrl+C does
    try:
        for note in watch_loop(services, service, stop.is_set):
            _show(note)
    except KeyboardInterrupt:
        stop.set()
        print(STOP_HINT, file=sys.stderr)
    finally:
        service.close()
    return EXIT_OK


def _show(note: WatchNote | IngestProgress) -> None:
    if isinstance(note, WatchNote):
        print(f"{note.kind} {display_path(note.path)}" + (f": {note.message}" if note.message else ""), flush=True)
    elif note.is_final and note.stage != Stage.CANCELLED:
        detail = f" ({counted(note.pages_total, 'page')})" if note.stage == Stage.INDEXED else f": {note.message}"
        print(f"{note.stage.value} {display_path(note.path)}{detail}", flush=True)
