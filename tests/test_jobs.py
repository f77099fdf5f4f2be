"""The window's jobs without Qt: index, answer, show the cited page (found by the citation's
document id), re-index, remove. Small fake models, a real library."""

from __future__ import annotations

from pathlib import Path

from desktop_rag import jobs
from desktop_rag.config import Settings
from desktop_rag.core.models.chat import never
from desktop_rag.core.search.scope import EVERYTHING
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Stage, run_to_end
from desktop_rag.ingest_queue import Batch
from desktop_rag.model_cache import ModelCache
from desktop_rag.shared_store import SharedStore
from fakes import HashEmbedder, StreamingChatModel
from pdfs import write_pdf

PAGES = ["Quarterly report of the Widget Company. Widget revenue was 42 million dollars in the third quarter.",
         "Outlook. The company expects widget demand to stay strong next year. Costs of steel rose slightly."]
REPLY = "Widget revenue was 42 million dollars in the third quarter."


def test_index_answer_render_reindex_and_remove(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    models = ModelCache(settings, embedder_factory=lambda _s: HashEmbedder(),
                        chat_model_factory=lambda _s: StreamingChatModel(REPLY))
    pdf = str(write_pdf(tmp_path / "widgets.pdf", PAGES))
    report = run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=False), {}, never))
    assert [o.stage for o in report.outcomes] == [Stage.INDEXED]

    shared = SharedStore(settings.data_path)
    answer = run_to_end(jobs.answer(settings, models, shared, "How much was widget revenue?", EVERYTHING, never))
    shared.retire()
    citation = answer.citations[0]
    with Store(settings.data_path) as store:
        first = store.document_by_path(pdf)
        assert first is not None and citation.doc_id == first.id
        page_text = store.page_text(citation.doc_id, citation.page)
    page = run_to_end(jobs.render(citation, page_text, 72.0, never))
    assert (page.path, page.number, page.page_count) == (pdf, 1, 2) and page.highlights

    again = run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=False), {}, never))
    assert [o.stage for o in again.outcomes] == [Stage.SKIPPED]  # unchanged: kept as it is
    again = run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=True), {}, never))
    assert [o.stage for o in again.outcomes] == [Stage.INDEXED]  # re-indexed: stored anew
    with Store(settings.data_path) as store:
        second = store.document_by_path(pdf)
        assert second is not None and second.id != first.id
    assert list(jobs.remove_documents(settings.data_path, [second.id], never)) == [second.id]
    with Store(settings.data_path) as store:
        assert store.documents() == []


def test_ingest_joins_collections_and_a_reindex_keeps_them(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    models = ModelCache(settings, embedder_factory=lambda _s: HashEmbedder(),
                        chat_model_factory=lambda _s: StreamingChatModel(REPLY))
    pdf = str(write_pdf(tmp_path / "widgets.pdf", PAGES))
    run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=False), {pdf: ("Reports", "Widgets")}, never))
    with Store(settings.data_path) as store:
        first = store.document_by_path(pdf)
        assert [(c.name, c.doc_ids) for c in store.collections.all()] == [("Reports", (first.id,)),
                                                                          ("Widgets", (first.id,))]
    run_to_end(jobs.ingest(settings, models, Batch((pdf,), replace=True), {}, never))
    with Store(settings.data_path) as store:
        second = store.document_by_path(pdf)
        assert second.id != first.id
        assert [(c.name, c.doc_ids) for c in store.collections.all()] == [("Reports", (second.id,)),
                                                                          ("Widgets", (second.id,))]
