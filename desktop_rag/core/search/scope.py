"""Which documents a question may search: the files the user names with ``--in`` (or picks in
the library), matched by path, file name or file name without its extension, case aside."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Sequence

from desktop_rag.core.types import DocumentInfo, DocumentStatus
from desktop_rag.errors import ScopeError

MAX_SUGGESTIONS = 3


def _keys(doc: DocumentInfo) -> set[str]:
    return {doc.path.lower(), doc.name.lower(), Path(doc.name).stem.lower()}


def resolve_scope(names: Sequence[str], documents: Sequence[DocumentInfo]) -> list[int]:
    """The ids of the indexed documents ``names`` point at; :class:`ScopeError` naming every name
    that points at none, with the nearest file names."""
    indexed = [d for d in documents if d.status == DocumentStatus.INDEXED]
    chosen: dict[int, None] = {}
    problems: list[str] = []
    for name in names:
        wanted = name.strip().lower()
        absolute = str(Path(name).expanduser().absolute()).lower()
        found = [d.id for d in indexed if wanted in _keys(d) or absolute == d.path.lower()]
        if found:
            chosen.update(dict.fromkeys(found))
            continue
        near = difflib.get_close_matches(name, [d.name for d in indexed], n=MAX_SUGGESTIONS, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
        problems.append(f"{name!r} is not a document in the library{hint}")
    if problems:
        raise ScopeError("; ".join(problems) + ". See 'desktop-rag list'.")
    return list(chosen)
