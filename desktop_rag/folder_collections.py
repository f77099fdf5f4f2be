"""Which collections ingested files join, and joining them as each file is done. Plain Python, no Qt.

By default each folder given (on the command line, or added or dropped in the window) becomes a
collection named after the folder, holding every PDF found under it; if a collection of that name
exists (case aside), the files are added to it. ``ingest --collection NAME`` puts every file in
NAME instead; ``--no-collection`` makes none. Files given one by one join no collection.

A file joins its collections as soon as the library lists it: indexed, skipped (already indexed,
or the same content as a file indexed under another path: that document joins), or failed (so
the collection shows why). A collection deleted while its files are being indexed is not made
again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Generator, Mapping, Sequence

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.ingest.pipeline import discover_documents, file_sha256
from desktop_rag.core.store.collections import MAX_NAME_CHARS, clean_name
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import DocumentInfo, IngestProgress, IngestReport, Stage
from desktop_rag.errors import CollectionError, DesktopRagError

log = logging.getLogger(__name__)

Plan = Mapping[str, tuple[str, ...]]  # file path (as ingestion reports it) -> names of its collections
JOINING = frozenset({Stage.INDEXED, Stage.SKIPPED, Stage.FAILED})


def folder_name(folder: Path) -> str:
    """The collection name a folder gives: its own name, readable (cut to the longest name allowed),
    or its path when its name is empty or blank (``/``)."""
    return clean_name((" ".join(display_name(folder).split()) or display_path(folder))[:MAX_NAME_CHARS])


def collection_plan(paths: Sequence[str | os.PathLike[str]], *, into: str | None = None,
                    by_folder: bool = True) -> dict[str, tuple[str, ...]]:
    """{file: collection names} for the files ingesting ``paths`` will see (see the module docstring).
    :class:`CollectionError` if ``into`` is not a valid name."""
    if into is not None:
        name = clean_name(into)
        return {str(f): (name,) for f in discover_documents(paths)}
    plan: dict[str, tuple[str, ...]] = {}
    if not by_folder:
        return plan
    for raw in paths:
        folder = Path(raw).expanduser().absolute()
        if _is_folder(folder):
            name = folder_name(folder)
            for f in discover_documents([folder]):
                names = plan.get(str(f), ())
                plan[str(f)] = names if name in names else (*names, name)
    return plan


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a path too long, ...: ingestion reports it as that file's failure
        return False


def join_collections(store: Store, events: Generator[IngestProgress, None, IngestReport],
                     plan: Plan) -> Generator[IngestProgress, None, IngestReport]:
    """Run an ingestion (``events``), putting each file in its collections as soon as it is done;
    the collections are made (or found) first. Returns the ingestion's report."""
    ids = {name: store.collections.ensure(name).id for names in plan.values() for name in names}
    try:
        while True:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value
            if event.is_final and event.stage in JOINING and plan.get(event.path):
                _join(store, event.path, [ids[name] for name in plan[event.path]])
            yield event
    finally:
        events.close()


def _listed(store: Store, path: str) -> DocumentInfo | None:
    """The document the library lists for a file just ingested: stored at its path, or the
    indexed copy of the same content."""
    doc = store.document_by_path(path)
    if doc is not None:
        return doc
    try:
        return store.indexed_by_hash(file_sha256(Path(path)))
    except DesktopRagError:  # gone or unreadable since: nothing to join
        return None


def _join(store: Store, path: str, collection_ids: Sequence[int]) -> None:
    doc = _listed(store, path)
    if doc is None:
        return
    for collection_id in collection_ids:
        try:
            store.collections.add(collection_id, [doc.id])
        except CollectionError:  # deleted meanwhile: the user's choice stands
            log.info("collection %s was deleted while %s was being indexed", collection_id, display_path(path))
