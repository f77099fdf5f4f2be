"""Returning a tuned library to its original embedding model, as atomically as tuning left it.

The first tuning kept the original model's vectors (``tune_original_vectors``); they are staged
again, the chunks added since are embedded with the original model, and the switch back happens in
one transaction (:mod:`.vectors`). Kept vectors are used only when the original embedder is the one
that made them (same model id); otherwise every passage is embedded again. Neither needs the tuned
model, so a library whose tuned folder is missing can always go back.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import Callable, Generator

from desktop_rag.core.models.chat import never
from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.tune.locking import tune_lock
from desktop_rag.core.tune.pairs import TuneProgress
from desktop_rag.core.tune.run import embed_passages
from desktop_rag.core.tune.state import META_KEY, read_tuned
from desktop_rag.errors import Cancelled, TuneError
from desktop_rag.core.tune.vectors import VectorSets


@dataclass(frozen=True, slots=True)
class RevertResult:
    model_id: str
    reused: int  # passages whose kept original vectors were used
    embedded: int  # passages embedded again with the original model
    seconds: float


def revert_library(store: Store, original: Embedder,
                   should_cancel: Callable[[], bool] = never) -> Generator[TuneProgress, None, RevertResult]:
    """Back to ``original`` (the embedder of the configured model); TuneError when not tuned."""
    store.require_writable()
    tuned = read_tuned(store.data_dir)
    if tuned is None:
        raise TuneError("this library already uses the original embedding model: there is nothing to return from")
    with tune_lock(store.data_dir), VectorSets(store.db_path, store.index_path) as sets:
        try:
            result = yield from _revert(sets, tuned.base_model_id, original, should_cancel)
        except BaseException:
            sets.clear_staged()
            raise
    store.rebuild_index()
    shutil.rmtree(tuned.path(store.data_dir), ignore_errors=True)
    return result


def _revert(sets: VectorSets, base_model_id: str, original: Embedder,
            should_cancel: Callable[[], bool]) -> Generator[TuneProgress, None, RevertResult]:
    began = time.monotonic()
    sets.clear_staged()
    reused = sets.stage_kept() if original.model_id == base_model_id else 0
    total, done = sets.chunk_count(), reused
    yield TuneProgress("embedding", done, total, "restoring the original vectors")
    for ids, texts in sets.unstaged():
        if should_cancel():
            raise Cancelled("cancelled: the library keeps its tuned model")
        sets.stage(ids, embed_passages(original, texts))
        done += len(ids)
        yield TuneProgress("embedding", done, total, "embedding with the original model")
    yield TuneProgress("switching", total, total, "switching back to the original model")
    sets.switch(original.model_id, {META_KEY: None}, lambda texts: embed_passages(original, texts),
                keep_current=False, drop_kept=True)
    return RevertResult(original.model_id, reused, total - reused, time.monotonic() - began)
