"""Wiring shared by the CLI and the GUI: builds core objects from :class:`Settings`.

Models load lazily on first use so commands that do not need them (``list``, a re-run of
``ingest`` over unchanged files) start in well under a second.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from desktop_rag.config import Settings, default_cache_dir
from desktop_rag.core.answer.answerer import Answerer
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.models.chat import ChatModel, never
from desktop_rag.core.models.embedder import Embedder, SentenceTransformerEmbedder
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.store.library import Store

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time


def embedder_key(s: Settings) -> tuple[Any, ...]:
    """The settings :func:`make_embedder` reads: equal keys, interchangeable embedders."""
    return (s.embedding_model, s.embed_batch_size, s.n_threads)


def chat_model_key(s: Settings) -> tuple[Any, ...]:
    """The settings :func:`make_chat_model` reads."""
    return (s.llm_model, s.n_gpu_layers, s.n_threads, s.n_ctx, s.fast_prompt_copy, s.remote_base_url,
            s.remote_model, s.remote_api_key_env)


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedding model the settings name (not loaded until first used)."""
    # n_threads 0: the cores other processes leave free, read per batch (see core/models/free_cores.py)
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.embed_batch_size,
                                       threads=settings.n_threads)


def make_chat_model(settings: Settings) -> ChatModel:
    """The remote endpoint when one is configured, else the local GGUF (not loaded until first used)."""
    s = settings
    if s.remote_base_url:
        from desktop_rag.core.models.openai_compat import OpenAICompatibleChatModel

        return OpenAICompatibleChatModel(
            s.remote_base_url, s.remote_model, api_key_env=s.remote_api_key_env, context_size=s.n_ctx
        )
    copies = default_cache_dir() / "models" if s.fast_prompt_copy else None
    # n_threads 0: the cores other processes leave free, read per question (core/models/free_cores.py)
    return LlamaCppChatModel(s.llm_model, n_gpu_layers=s.n_gpu_layers, n_threads=s.n_threads,
                             n_ctx=s.n_ctx, prompt_copy_dir=copies)


class Services:
    """Owns the store, the embedder and the extractor for one data directory.

    ``embedder`` and ``chat_model`` may be given already loaded, so several instances (one per
    GUI worker job, each with its own SQLite connection) share one copy of each model; ``store``
    may be given open too. What is given in is not closed by :meth:`close`: its owner closes it.
    """

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None,
                 chat_model: ChatModel | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else Store(settings.data_path)
        self._owns_store = store is None
        self._embedder: Embedder | None = embedder
        self._extractor: PdfExtractor | None = None
        self._chat_model: ChatModel | None = chat_model
        self._owns_chat_model = chat_model is None

    def __enter__(self) -> "Services":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._extractor is not None:
            self._extractor.close()
        if self._owns_chat_model and isinstance(self._chat_model, LlamaCppChatModel):
            self._chat_model.close()
        if self._owns_store:
            self.store.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def extractor(self) -> PdfExtractor:
        if self._extractor is None:
            self._extractor = PdfExtractor(self.settings.extract_timeout_s, self.settings.extract_memory_mb)
        return self._extractor

    def ingestion(self, should_cancel: Callable[[], bool] = never) -> Ingestion:
        chunks = ChunkOptions(self.settings.chunk_tokens, self.settings.chunk_overlap)
        return Ingestion(self.store, self.embedder, self.extractor, chunks, should_cancel)

    def chat_model(self) -> ChatModel:
        """The remote endpoint when one is configured, else the local GGUF (loaded on first use)."""
        if self._chat_model is None:
            self._chat_model = make_chat_model(self.settings)
        return self._chat_model

    def answerer(self, *, temperature: float | None = None) -> Answerer:
        """The answerer the settings describe; ``temperature`` overrides the setting (the evaluation
        answers at 0, so the same questions give the same answers)."""
        s = self.settings
        return Answerer(self.store, self.retriever(), self.embedder, self.chat_model(), k=s.top_k,
                        mode=s.retrieval_mode, max_tokens=s.max_tokens,
                        temperature=s.temperature if temperature is None else temperature)

    def retriever(self) -> Retriever:
        import faiss

        faiss.omp_set_num_threads(1)  # single queries: one OpenMP thread is faster than two here
        return Retriever(self.store, self.embedder)
