"""``desktop-rag collections [list | show | create | add | remove | delete | rename]``: named sets
of documents, for ``search``, ``ask`` and ``eval --in NAME``.

Collection names compare without case; documents are named as ``list`` shows them (file name, file
name without ``.pdf``, or path). Taking a document out of a collection, or deleting a collection,
never removes a document from the library.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from desktop_rag.cli.output import EXIT_OK, print_json
from desktop_rag.config import Settings
from desktop_rag.core.filenames import display_path
from desktop_rag.core.search.scope import documents_named
from desktop_rag.core.store.collections import CollectionInfo
from desktop_rag.core.store.library import Store
from desktop_rag.core.text import counted
from desktop_rag.core.types import DocumentStatus
from desktop_rag.errors import CollectionError, ScopeError
from desktop_rag.services import Services


READING = frozenset({"list", "show"})  # the actions a read-only library allows


def cmd_collections(args: argparse.Namespace, settings: Settings) -> int:
    actions: dict[str, Callable[[argparse.Namespace, Store], int]] = {
        "list": _list, "show": _show, "create": _create, "add": _add, "remove": _remove, "delete": _delete,
        "rename": _rename,
    }
    action = args.action or "list"
    with Services(settings) as services:
        if action not in READING:
            services.store.require_writable()  # a read-only library: refused before anything is looked at
        return actions[action](args, services.store)


def _documents(store: Store, files: list[str]) -> list[int]:
    """The ids of the documents the files name; :class:`CollectionError` naming those it does not hold."""
    try:
        return [d.id for d in documents_named(files, store.documents())]
    except ScopeError as exc:
        raise CollectionError(str(exc)) from exc


def _list(args: argparse.Namespace, store: Store) -> int:
    collections = store.collections.all()
    indexed = {d.id for d in store.documents() if d.status == DocumentStatus.INDEXED}
    if getattr(args, "json", False):
        print_json([{"name": c.name, "documents": c.count, "indexed": sum(1 for i in c.doc_ids if i in indexed)}
                    for c in collections])
        return EXIT_OK
    if not collections:
        print("No collections yet. Ingest a folder, or: desktop-rag collections create NAME FILE...", file=sys.stderr)
        return EXIT_OK
    width = max(len("COLLECTION"), *(len(c.name) for c in collections))
    print(f"{'COLLECTION':<{width}}  DOCUMENTS")
    for c in collections:
        missing = sum(1 for i in c.doc_ids if i not in indexed)
        print(f"{c.name:<{width}}  {c.count:>9}" + (f"  ({missing} not indexed)" if missing else ""))
    print(counted(len(collections), "collection"))
    return EXIT_OK


def _show(args: argparse.Namespace, store: Store) -> int:
    collection = store.collections.find(args.name)
    members = set(collection.doc_ids)
    docs = [d for d in store.documents() if d.id in members]
    if args.json:
        print_json({"name": collection.name,
                    "documents": [{"file": d.name, "path": d.path, "status": d.status} for d in docs]})
        return EXIT_OK
    print(f"{collection.name}: {counted(len(docs), 'document')}", file=sys.stderr)
    for d in docs:
        shown = display_path(d.path)
        print(shown if d.status == DocumentStatus.INDEXED else f"{shown}  ({d.status})")
    return EXIT_OK


def _create(args: argparse.Namespace, store: Store) -> int:
    ids = _documents(store, args.files)
    collection = store.collections.create(args.name, ids)
    print(f"created collection {collection.name!r} with {counted(collection.count, 'document')}", file=sys.stderr)
    return EXIT_OK


def _add(args: argparse.Namespace, store: Store) -> int:
    collection = store.collections.find(args.name)
    ids = _documents(store, args.files)
    added = store.collections.add(collection.id, ids)
    already = f" ({len(ids) - added} were in it already)" if added < len(ids) else ""
    print(f"added {counted(added, 'document')} to {collection.name!r}{already}", file=sys.stderr)
    return EXIT_OK


def _remove(args: argparse.Namespace, store: Store) -> int:
    collection = store.collections.find(args.name)
    removed = store.collections.remove(collection.id, _documents(store, args.files))
    print(f"took {counted(removed, 'document')} out of {collection.name!r} (they stay in the library)", file=sys.stderr)
    return EXIT_OK


def _delete(args: argparse.Namespace, store: Store) -> int:
    collection: CollectionInfo = store.collections.find(args.name)
    store.collections.delete(collection.id)
    print(f"deleted collection {collection.name!r} (its {counted(collection.count, 'document')} stay in the library)",
          file=sys.stderr)
    return EXIT_OK


def _rename(args: argparse.Namespace, store: Store) -> int:
    collection = store.collections.find(args.name)
    renamed = store.collections.rename(collection.id, args.new_name)
    print(f"renamed collection {collection.name!r} to {renamed.name!r}", file=sys.stderr)
    return EXIT_OK
