"""Which documents a question may search.

On the command line, each ``--in NAME`` names a collection (its name, case aside) or a file (its
path, file name or file name without its extension, case aside); a name that is both means the
collection's documents and the file. In the window, a :class:`Scope` is the whole library, one
collection (held by id, so a rename does not lose it) or the documents selected in the library.

A name that points at nothing is a :class:`ScopeError` listing the nearest collection and file
names; a scope that holds no indexed document (an empty collection, files that failed to index)
is an :class:`EmptyScopeError`: "nothing to search in".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from desktop_rag.core.store.collections import CollectionInfo, near_names, same_name
from desktop_rag.core.types import DocumentInfo, DocumentStatus
from desktop_rag.errors import EmptyScopeError, ScopeError

if TYPE_CHECKING:
    from desktop_rag.core.store.library import Store

MAX_SUGGESTIONS = 3
ALL_DOCUMENTS = "All documents"
NOTHING_TO_SEARCH = "nothing to search in."


@dataclass(frozen=True, slots=True)
class Scope:
    """A scope picked in the window; ``label`` is shown with the answer ("in: <label>")."""

    label: str = ALL_DOCUMENTS
    collection_id: int | None = None
    doc_ids: tuple[int, ...] | None = None  # the documents selected in the library

    @property
    def everything(self) -> bool:
        return self.collection_id is None and self.doc_ids is None


EVERYTHING = Scope()


def _keys(doc: DocumentInfo) -> set[str]:
    return {doc.path.lower(), doc.name.lower(), Path(doc.name).stem.lower()}


def _files_named(name: str, documents: Sequence[DocumentInfo]) -> list[DocumentInfo]:
    wanted = name.strip().lower()
    absolute = str(Path(name).expanduser().absolute()).lower()
    return [d for d in documents if wanted in _keys(d) or absolute == d.path.lower()]


def documents_named(names: Sequence[str], documents: Sequence[DocumentInfo]) -> list[DocumentInfo]:
    """The documents (indexed or not) the names point at as files, in order; :class:`ScopeError`
    naming every name that points at none, with the nearest file names."""
    chosen: dict[int, DocumentInfo] = {}
    problems: list[str] = []
    for name in names:
        found = _files_named(name, documents)
        chosen.update((d.id, d) for d in found)
        if not found:
            near = near_names(name, [d.name for d in documents], MAX_SUGGESTIONS)
            hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
            problems.append(f"{name!r} is not a document in the library{hint}")
    if problems:
        raise ScopeError("; ".join(problems) + ". See 'desktop-rag list'.")
    return list(chosen.values())


def _unknown(name: str, documents: Sequence[DocumentInfo], collections: Sequence[CollectionInfo]) -> str:
    kinds = {c.name: f"{c.name!r} (a collection)" for c in collections}
    kinds.update({d.name: repr(d.name) for d in documents if d.name not in kinds})
    near = near_names(name, kinds, MAX_SUGGESTIONS)
    hint = f" (did you mean {', '.join(kinds[n] for n in near)}?)" if near else ""
    return f"{name!r} is not a collection or a document in the library{hint}"


def _why_empty(name: str, collection: CollectionInfo | None, files: Sequence[DocumentInfo]) -> str:
    if collection is not None:
        return f"Collection {collection.name!r} has no indexed documents"
    return f"{files[0].name!r} could not be indexed" if len(files) == 1 else f"{name!r} names no indexed document"


def resolve_scope(names: Sequence[str], documents: Sequence[DocumentInfo],
                  collections: Sequence[CollectionInfo] = ()) -> list[int]:
    """The ids of the indexed documents ``names`` point at (collections and files), in order.

    :class:`ScopeError` naming every name that points at nothing, with the nearest names;
    :class:`EmptyScopeError` when the names hold no indexed document between them."""
    indexed = {d.id for d in documents if d.status == DocumentStatus.INDEXED}
    chosen: dict[int, None] = {}
    problems: list[str] = []
    empty: list[str] = []
    for name in names:
        collection = next((c for c in collections if same_name(c.name, name)), None)
        files = _files_named(name, documents)
        if collection is None and not files:
            problems.append(_unknown(name, documents, collections))
            continue
        ids = [i for i in (*(collection.doc_ids if collection else ()), *(d.id for d in files)) if i in indexed]
        chosen.update(dict.fromkeys(ids))
        if not ids:
            empty.append(_why_empty(name, collection, files))
    if problems:
        raise ScopeError("; ".join(problems) + ". See 'desktop-rag list' and 'desktop-rag collections'.")
    if not chosen and names:
        raise EmptyScopeError("; ".join(empty) + ": " + NOTHING_TO_SEARCH)
    return list(chosen)


def scope_documents(scope: Scope, store: Store) -> list[int] | None:
    """The ids of the indexed documents a scope picked in the window holds now (None: the whole
    library). :class:`ScopeError` if its collection was deleted; :class:`EmptyScopeError` if it
    holds no indexed document."""
    if scope.everything:
        return None
    indexed = {d.id for d in store.documents() if d.status == DocumentStatus.INDEXED}
    if scope.collection_id is not None:
        collection = store.collections.get(scope.collection_id)
        if collection is None:
            raise ScopeError(f"The collection {scope.label!r} was deleted: choose another scope and ask again.")
        ids = [i for i in collection.doc_ids if i in indexed]
        if not ids:
            raise EmptyScopeError(f"Collection {collection.name!r} has no indexed documents: {NOTHING_TO_SEARCH}")
        return ids
    ids = [i for i in scope.doc_ids or () if i in indexed]
    if not ids:
        raise EmptyScopeError(f"No indexed document is selected in the library: {NOTHING_TO_SEARCH}")
    return ids
