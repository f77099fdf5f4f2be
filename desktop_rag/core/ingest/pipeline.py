"""The ingestion pipeline: paths -> checked, hashed, extracted, chunked, embedded, stored.

``Ingestion.run`` is a generator of :class:`IngestProgress` events that returns an
:class:`IngestReport`; every event is a cancel point. A failed file is recorded with its reason
and the batch carries on. Each document is committed in one transaction after it is fully
embedded, so an interruption at any moment loses at most the document in flight, and re-running
the same paths skips what is already stored.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Generator, Sequence

import numpy as np

from desktop_rag.core.filenames import display_path
from desktop_rag.core.ingest.chunking import chunk_pages, chunk_sections
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.files import checked_stat, discover_documents, file_sha256
from desktop_rag.core.ingest.formats import is_pdf
from desktop_rag.core.models.chat import never
from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, DocumentStatus, FileOutcome, IngestProgress, IngestReport, Stage
from desktop_rag.errors import Cancelled, InputFileError, StoreWriteError

log = logging.getLogger(__name__)

# The last two are from .files.
__all__ = ["ChunkOptions", "Ingestion", "discover_documents", "file_sha256"]

EMBED_STEP = 64  # chunks per progress event while embedding


@dataclass(frozen=True, slots=True)
class ChunkOptions:
    """Chunk size and overlap in embedder tokens (the settings ``chunk_tokens``, ``chunk_overlap``)."""

    max_tokens: int
    overlap_tokens: int


class _FileJob:
    """Ingestion of one file; a generator method so every step can report and be cancelled."""

    def __init__(self, ingestion: "Ingestion", path: Path, index: int, count: int) -> None:
        self.ing, self.path, self.index, self.count = ingestion, path, index, count
        self.sha = ""  # known once hashed; recorded with a failure
        self.stat: os.stat_result | None = None

    def event(self, stage: Stage, **fields: object) -> IngestProgress:
        return IngestProgress(str(self.path), stage, self.index, self.count, **fields)  # type: ignore[arg-type]

    def run(self) -> Generator[IngestProgress, None, FileOutcome]:
        ing, path = self.ing, self.path
        yield self.event(Stage.HASHING)
        skipped = self._already_stored()
        if skipped is not None:
            return skipped
        ing.check_cancel()
        yield self.event(Stage.EXTRACTING)
        extracted = yield from ing.extractor.extract_steps(path, partial(self.event, Stage.EXTRACTING))  # OCR pages
        pages = extracted.pages
        ing.check_cancel()
        yield self.event(Stage.CHUNKING, pages_total=len(pages))
        embedder = ing.ready_embedder()
        limit = min(ing.chunks.max_tokens, embedder.max_tokens)
        split = chunk_pages if is_pdf(path) else chunk_sections  # a passage stays under one heading
        chunks = split(pages, embedder.token_offsets, limit, min(ing.chunks.overlap_tokens, limit // 2 - 1))
        matrix = yield from self._embed(embedder, chunks, len(pages))
        ing.check_cancel()
        yield self.event(Stage.STORING, pages_done=len(pages), pages_total=len(pages),
                         chunks_done=len(chunks), chunks_total=len(chunks))
        assert self.stat is not None  # set by _already_stored
        ing.store.add_document(path=str(path), sha256=self.sha, size=self.stat.st_size, mtime=self.stat.st_mtime,
                               pages=pages, chunks=chunks, vectors=matrix, model_id=embedder.model_id,
                               title=extracted.title)
        return FileOutcome(str(path), Stage.INDEXED, "", len(pages), len(chunks))

    def _already_stored(self) -> FileOutcome | None:
        """The skip of a file stored unchanged (same size and time) or whose content is stored;
        else None, with the file's hash and stat kept for storing it (or recording its failure)."""
        path, store = self.path, self.ing.store
        stat = checked_stat(path)  # a special file or a folder is refused here, before it is opened
        known = store.document_by_path(str(path))
        unchanged = known is not None and (known.size, known.mtime) == (stat.st_size, stat.st_mtime)
        if known is not None and unchanged and known.status == DocumentStatus.INDEXED:
            return FileOutcome(str(path), Stage.SKIPPED, "already indexed, unchanged", known.page_count, known.chunk_count)
        sha = file_sha256(path)
        same = store.indexed_by_hash(sha)
        if same is not None:
            same_file = same.path == str(path)
            why = "already indexed, unchanged" if same_file else f"same content as {display_path(same.path)}"
            return FileOutcome(str(path), Stage.SKIPPED, why, same.page_count, same.chunk_count)
        self.sha, self.stat = sha, stat
        return None

    def _embed(self, embedder: Embedder, chunks: Sequence[Chunk], page_count: int
               ) -> Generator[IngestProgress, None, np.ndarray]:
        """The chunks' vectors, EMBED_STEP chunks at a time (each step a progress and cancel point).
        An embedder with a faster path for stored passages (``embed_documents``: the ONNX one's int8
        copy) is given them there."""
        embed = getattr(embedder, "embed_documents", embedder.embed)
        vectors = []
        for start in range(0, len(chunks), EMBED_STEP):
            self.ing.check_cancel()
            yield self.event(Stage.EMBEDDING, pages_done=page_count, pages_total=page_count,
                             chunks_done=start, chunks_total=len(chunks))
            vectors.append(embed([c.text for c in chunks[start:start + EMBED_STEP]]))
        return np.concatenate(vectors) if vectors else np.zeros((0, embedder.dimension), np.float32)


class Ingestion:
    """Holds what one run of the pipeline needs; ``run`` is the generator."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        extractor: PdfExtractor,
        chunks: ChunkOptions,
        should_cancel: Callable[[], bool] = never,
    ) -> None:
        self.store, self.embedder, self.extractor, self.chunks = store, embedder, extractor, chunks
        self.should_cancel = should_cancel
        self._embedder_checked = False

    def check_cancel(self) -> None:
        if self.should_cancel():
            raise Cancelled("ingestion cancelled")

    def ready_embedder(self) -> Embedder:
        """Load the embedder only when a file really needs it (re-runs stay fast)."""
        if not self._embedder_checked:
            self.store.check_embedder(self.embedder.model_id, self.embedder.dimension)
            self.store.load_index()
            self._embedder_checked = True
        return self.embedder

    def run(self, paths: Sequence[str | os.PathLike[str]]) -> Generator[IngestProgress, None, IngestReport]:
        """Index the files and folders (see :func:`discover_documents`). A library opened for reading only is
        refused at once (StoreWriteError), before any file is looked at."""
        self.store.require_writable()
        started = time.perf_counter()
        files = discover_documents(paths)
        report = IngestReport()
        try:
            for index, path in enumerate(files):
                job = _FileJob(self, path, index, len(files))
                outcome = yield from self._run_job(job)
                report.outcomes.append(outcome)
                yield job.event(outcome.stage, pages_done=outcome.pages, pages_total=outcome.pages,
                                chunks_done=outcome.chunks, chunks_total=outcome.chunks, message=outcome.message)
                if outcome.stage == Stage.CANCELLED:
                    report.cancelled = True
                    break
        finally:
            self.store.save_index()
            report.seconds = time.perf_counter() - started
        return report

    def _run_job(self, job: _FileJob) -> Generator[IngestProgress, None, FileOutcome]:
        path = str(job.path)
        try:
            return (yield from job.run())
        except Cancelled:
            return FileOutcome(path, Stage.CANCELLED, "cancelled; nothing of this file was stored")
        except InputFileError as exc:
            log.info("failed: %s", exc)
            self._record_failure(job, str(exc))
            return FileOutcome(path, Stage.FAILED, str(exc))
        except StoreWriteError as exc:
            return FileOutcome(path, Stage.FAILED, str(exc))

    def _record_failure(self, job: _FileJob, message: str) -> None:
        stat = job.stat
        try:
            self.store.record_failure(path=str(job.path), sha256=job.sha,
                                      size=stat.st_size if stat else 0, mtime=stat.st_mtime if stat else 0.0,
                                      error=message)
        except StoreWriteError as exc:
            log.warning("could not record the failure of %s: %s", display_path(job.path), exc)
