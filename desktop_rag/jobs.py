"""The long operations the window runs, as plain generator jobs. No Qt.

Each job takes plain values and, last, ``should_stop``; it yields progress and returns its
result. :class:`~desktop_rag.ui.workers.WorkerPool` runs them off the GUI thread with the values
bound by ``functools.partial``; a test runs one with ``list()``. Each job opens its own
:class:`~desktop_rag.services.Services` (so its own SQLite connection) and uses the models of the
window's :class:`~desktop_rag.model_cache.ModelCache`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Generator, Sequence

from desktop_rag.config import Settings
from desktop_rag.core.ingest.render import RenderedPage, render_page
from desktop_rag.core.search.scope import Scope, scope_documents
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import (Answer, AnswerEvent, AnswerSentence, Citation, IngestProgress, IngestReport,
                                     WordBox)
from desktop_rag.errors import ScopeError
from desktop_rag.folder_collections import Plan, join_collections
from desktop_rag.ingest_queue import Batch
from desktop_rag.model_cache import ModelCache
from desktop_rag.services import Services
from desktop_rag.shared_store import SharedStore

SELF_CHECK_QUESTIONS = 50  # questions the retrieval quality check writes from the library
DEFAULT_RENDER_DPI = 120.0

StopCheck = Callable[[], bool]


def ingest(settings: Settings, models: ModelCache, batch: Batch, plan: Plan,
           should_stop: StopCheck) -> Generator[IngestProgress, None, IngestReport]:
    """Index the batch; each file joins the collections ``plan`` names for it as soon as it is done.
    While a question is answered it waits at its cancel points (``models.answering``)."""
    should_stop = models.answering.gated(should_stop)
    with Services(settings, embedder=models.embedder) as services:
        store, joins = services.store, dict(plan)
        if batch.replace:  # re-index: forget the stored copy first, or ingestion skips unchanged files
            for path in batch.paths:
                doc = store.document_by_path(path)
                if doc is not None:  # ... but not its collections: the new copy joins them again
                    joins[path] = (*joins.get(path, ()), *store.collections.of_document(doc.id))
                    store.remove_document(doc.id)
        return (yield from join_collections(store, services.ingestion(should_stop).run(list(batch.paths)), joins))


def answer(settings: Settings, models: ModelCache, shared: SharedStore, question: str, scope: Scope,
           should_stop: StopCheck) -> Generator[AnswerEvent, None, Answer]:
    """Answer from the documents ``scope`` holds when the search starts. A scope that holds none
    now (an empty collection, one deleted since it was picked) is answered with the reason.
    Indexing pauses from the first step to the last (``models.answering``)."""
    with models.answering.held(), shared.use() as store, \
            Services(settings, embedder=models.embedder, chat_model=models.chat_model, store=store) as services:
        try:
            doc_ids = scope_documents(scope, store)
        except ScopeError as exc:
            return (yield from _nothing_to_search(question, str(exc)))
        return (yield from services.answerer().ask(question, should_stop, scope=doc_ids))


def _nothing_to_search(question: str, why: str) -> Generator[AnswerEvent, None, Answer]:
    yield AnswerEvent("retrieved")
    yield AnswerEvent("token", why)
    return Answer(question, why, sentences=[AnswerSentence(why, (), True)], found_nothing=True)


def change_collections(data_path: Path, change: Callable[[Store], Any],
                       should_stop: StopCheck) -> Generator[str, None, Any]:
    """One change to the collections (``change(store)``, e.g. create, rename, delete), off the GUI
    thread: it may wait for ingestion to finish writing a document."""
    yield "saving"
    with Store(data_path) as store:
        return change(store)


def remove_documents(data_path: Path, doc_ids: Sequence[int], should_stop: StopCheck) -> Generator[int, None, list[int]]:
    with Store(data_path) as store:
        for doc_id in doc_ids:
            store.remove_document(doc_id)
            yield doc_id
    return list(doc_ids)


def render(citation: Citation, page_text: str | None, dpi: float,
           should_stop: StopCheck, words: Sequence[WordBox] | None = None) -> Generator[str, None, RenderedPage]:
    """The cited page with the passage highlighted. ``page_text`` is the stored text of the page
    (``Store.page_text(citation.doc_id, citation.page)``): the offsets count in it; ``words`` its word
    boxes when it was read by OCR (``Store.page_words.of``)."""
    whole_page = len(page_text or "") or citation.end_offset  # a passage that runs on to the next page
    end = citation.end_offset if citation.page_end == citation.page else whole_page
    yield "rendering"
    return render_page(citation.path, citation.page, dpi=dpi, highlight=(citation.start_offset, end),
                       page_text=page_text, label=citation.label, words=words)


def check_quality(settings: Settings, models: ModelCache, n: int,
                  should_stop: StopCheck) -> Generator[Any, None, tuple[str, str]]:
    """Self-evaluation on ``n`` questions written from the library; returns (table, chart file)."""
    from desktop_rag.eval_service import format_table, render_chart, run_self_evaluation

    with Services(settings, embedder=models.embedder, chat_model=models.chat_model) as services:
        result = yield from run_self_evaluation(services, n, should_stop)
    chart = Path(tempfile.mkdtemp(prefix="desktop-rag-quality-")) / "chart.png"
    render_chart(result, chart)
    return format_table(result), str(chart)
