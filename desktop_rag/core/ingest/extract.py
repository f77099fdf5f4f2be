"""File -> pages. Parsing runs in a child process with a time and a memory limit.

PDF parsers are large C and Python code bases fed untrusted input: a hostile file can make
them loop, allocate without bound (pdfium grew past 15 GB on a decompression bomb) or crash.
So the parser lives in a child process whose address space is capped with ``RLIMIT_AS``; the
parent waits at most ``timeout_s`` per file and kills the child when it overruns, then starts a
fresh one for the next file. pypdfium2 is the primary parser (about 15x faster than pypdf on
our corpus, and it reads filings pypdf rejects); pypdf is the fallback when pdfium cannot open
a file (see :mod:`.parse`, the child's side). The parsers' messages go to the log; the user reads a
plain reason: damaged, a compression or encryption method this program cannot read, a password,
no text (a scan, when its pages hold images), a limit. Word, Markdown, HTML and plain text files
go through the same child and limits (see :mod:`.textparse`); their pages are sections with labels
(see :mod:`.formats`), and a text file over :data:`~.formats.MAX_TEXT_BYTES` is refused unread.

Pages whose text layer is empty or nearly so but that draw images (scans) are read by OCR in the
same child (see :mod:`.ocr`), page by page: the child sends a progress line before each such page and
the parent yields it (:meth:`PdfExtractor.extract_steps`). OCR is slow (4.1 s a page measured on a
busy 2-core machine, benchmarks/bench_ocr.py), so once the child starts reading scans the time limit
changes: each page must be read within :data:`OCR_PAGE_LIMIT_S` of the one before (a hung page is
caught within a minute) and all of them within :data:`OCR_FILE_LIMIT_S` (about 800 pages at 4 s),
instead of the parse limit, which would fail any scan over ~25 pages. The memory cap stays as it is:
the engine and a dense page peak at ~1.45 GB of address space (0.5 GB resident), inside the default
2 GB; under a smaller cap OCR stops with the limit as its reason.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Generator

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.ingest.document import ExtractedDocument, ProgressEvent, document_from, normalize_page_text, ocr_event
from desktop_rag.core.ingest.files import checked_stat, file_access_error
from desktop_rag.core.ingest.formats import DOCX_SUFFIX, FORMAT_NAMES, MAX_DOCX_BYTES, MAX_TEXT_BYTES, is_pdf, suffix_of
from desktop_rag.core.ingest.ocr import OcrUnavailable, Report, out_of_memory, read_scanned_pages
from desktop_rag.core.ingest.parse import CIPHER, COMPRESSION, ENCRYPTED, LIMIT, OK, parse_pdf
from desktop_rag.core.ingest.textparse import REFUSED, parse_document
from desktop_rag.core.types import IngestProgress, run_to_end
from desktop_rag.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    ExtractionLimitError,
    InputFileError,
    NotAPdfError,
    OcrError,
    UnreadableDocumentError,
    UnsupportedPdfError,
)

log = logging.getLogger(__name__)

# Re-exported: what callers of this module have always imported from it.
__all__ = ["ExtractedDocument", "PdfExtractor", "normalize_page_text", "parse_file", "serve_worker"]

PROGRESS, OCR_FAILED = "progress", "ocr"  # a child's line before each OCR page; OCR could not start
OCR_MEMORY = "ocr-memory"  # the detail of a LIMIT: OCR needed more than the memory limit
OCR_PAGE_LIMIT_S = 60.0  # one page read by OCR (~4 s here): more means a hung engine
OCR_FILE_LIMIT_S = 3600.0  # all the OCR pages of one file


def check_pdf_file(path: Path) -> None:
    """Cheap checks in the parent, before any parser sees the file (a special file is never opened)."""
    checked_stat(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError as exc:
        raise file_access_error(path, exc) from exc
    name = display_name(path)
    if size == 0:
        raise NotAPdfError(str(path), f"{name}: empty file (0 bytes)")
    if b"%PDF-" not in head and suffix_of(path) != ".pdf":
        raise NotAPdfError(str(path), f"{name}: not a kind of file this program reads ({FORMAT_NAMES})")
    if b"%PDF-" not in head:
        raise NotAPdfError(str(path), f"{name}: not a PDF file (no %PDF header)")
    if b"%%EOF" not in tail:
        raise CorruptPdfError(
            str(path), f"{name}: the PDF is truncated (no end-of-file marker); was the download incomplete?"
        )


def check_document_file(path: Path) -> None:
    """The parent's checks on a file in another format: a regular file, not empty, not over its size limit."""
    size = checked_stat(path).st_size
    name = display_name(path)
    if size == 0:
        raise UnreadableDocumentError(str(path), f"{name}: empty file (0 bytes)")
    limit = MAX_DOCX_BYTES if suffix_of(path) == DOCX_SUFFIX else MAX_TEXT_BYTES
    if size > limit:
        kind = "Word files" if limit == MAX_DOCX_BYTES else f"{suffix_of(path)} files"
        raise ExtractionLimitError(str(path), f"{name}: {size / 2**20:,.0f} MB; {kind} over {limit // 2**20} MB "
                                              "are not indexed (split it, or convert it to PDF)")


def parse_file(path: str, ocr: bool = False, report: Report = lambda *progress: None) -> tuple[str, Any]:
    """The child's answer for one file: the PDF parsers for a PDF (then OCR of its scanned pages, when
    ``ocr``), :mod:`.textparse` for the rest."""
    if not is_pdf(path):
        return parse_document(path)
    kind, payload = parse_pdf(path)
    if kind != OK or not ocr or not payload[2]:
        return kind, payload
    try:
        return kind, [*payload, read_scanned_pages(path, payload[2], report)]
    except OcrUnavailable as exc:
        return OCR_FAILED, str(exc)
    except MemoryError:
        return LIMIT, OCR_MEMORY
    except Exception as exc:  # noqa: BLE001 - pdfium cannot open what pypdf read, a render error, ...
        if out_of_memory(exc):
            return LIMIT, OCR_MEMORY
        log.info("OCR of %s failed: %s: %s", path, type(exc).__name__, exc)
        return kind, [*payload, {"skipped": {str(n): "OCR could not read it" for n in payload[2]}}]


# ---------------------------------------------------------------- child side


def serve_worker(memory_mb: int) -> None:
    """Child main loop: read a request per line on stdin (a JSON path, or ``[path, ocr]``), answer one
    JSON line ``[kind, payload]`` on stdout, after a ``["progress", [i, n, page, pages]]`` line per OCR page."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on Windows; the time limit still applies
        pass
    out = sys.stdout
    sys.stdout = sys.stderr  # a stray print from a parser must not corrupt the protocol

    def send(kind: str, payload: Any) -> None:
        out.write(json.dumps([kind, payload]) + "\n")
        out.flush()

    for line in sys.stdin:
        request = json.loads(line)
        path, ocr = (request, False) if isinstance(request, str) else request
        send(*parse_file(path, ocr, lambda *progress: send(PROGRESS, progress)))


# ---------------------------------------------------------------- parent side


def worker_command(memory_mb: int) -> list[str]:
    """The child's command line; a frozen (PyInstaller) build re-runs itself with a flag."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--extract-worker", str(memory_mb)]
    return [sys.executable, "-m", "desktop_rag.core.ingest.extract", str(memory_mb)]


class PdfExtractor:
    """Extracts pages of one file at a time in a reusable, killable child process.

    The child is a plain ``subprocess`` (not ``multiprocessing``), so it never re-imports the
    caller's main module and never inherits the parent's threads; a reader thread turns its
    output into a queue so the parent can wait with a timeout on every platform.
    """

    def __init__(self, timeout_s: float, memory_mb: int, ocr: bool = True) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.ocr = ocr  # read scanned pages by OCR (the setting ``ocr``)
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()

    def __enter__(self) -> "PdfExtractor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        self._process = subprocess.Popen(
            worker_command(self.memory_mb), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env=env,
        )
        self._replies = queue.Queue()
        threading.Thread(target=self._pump, args=(self._process, self._replies), daemon=True).start()
        return self._process

    @staticmethod
    def _pump(process: subprocess.Popen[str], replies: "queue.Queue[str | None]") -> None:
        assert process.stdout is not None
        for line in process.stdout:
            replies.put(line)
        replies.put(None)  # the child exited

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
        self._process = None

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()  # the child's loop ends on EOF
                process.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait(5)

    def extract_document(self, path: str | os.PathLike[str]) -> ExtractedDocument:
        """Pages with text (1-based numbers) and the title from the PDF's metadata.

        Raises an :class:`InputFileError` subclass."""
        return run_to_end(self.extract_steps(path))

    def extract_steps(self, path: str | os.PathLike[str], event: ProgressEvent | None = None
                      ) -> Generator[IngestProgress, None, ExtractedDocument]:
        """:meth:`extract_document` as a generator: before each page it reads by OCR it yields
        ``event(pages_done=, pages_total=, message="reading page 3 of 40 (OCR)")`` (nothing without ``event``).
        Closing it while the child works kills the child. Raises an :class:`InputFileError` subclass."""
        path = Path(path)
        if is_pdf(path):
            check_pdf_file(path)
        else:
            check_document_file(path)
        kind, payload = yield from self._round_trip(path, event)
        if kind != OK:
            raise self._error(path, kind, payload)
        return document_from(path, payload, self.ocr)

    def _round_trip(self, path: Path, event: ProgressEvent | None) -> Generator[IngestProgress, None, tuple[str, Any]]:
        process = self._start()
        deadline = _Deadline(self.timeout_s)
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps([str(path), self.ocr]) + "\n")
            process.stdin.flush()
            while (line := self._replies.get(timeout=deadline.left())) is not None:
                kind, payload = json.loads(line)
                if kind != PROGRESS:
                    return kind, payload
                deadline.page_started()
                if event is not None:
                    yield ocr_event(event, *payload)
        except queue.Empty:
            self._kill()
            return LIMIT, deadline.reason()
        except OSError:
            pass
        except BaseException:  # closed (cancelled) mid-file: its late answer must not pass for the next file's
            self._kill()
            raise
        return self._died(process, path)

    def _died(self, process: subprocess.Popen[str], path: Path) -> tuple[str, str]:
        code = process.wait(5)
        self._process = None
        log.warning("extraction child died on %s (exit code %s)", display_path(path), code)
        return LIMIT, f"the parser ran out of its {self.memory_mb} MB memory limit or crashed (exit code {code})"

    def _error(self, path: Path, kind: str, payload: str) -> InputFileError:
        """The plain reason for a failure; what the parsers said goes to the log (see :mod:`.parse`)."""
        name = display_name(path)
        if kind == LIMIT:
            detail = f"exceeded the {self.memory_mb} MB memory limit" if payload == "memory" else payload
            if payload == OCR_MEMORY:
                detail = f"reading its scanned pages by OCR needs more than the {self.memory_mb} MB memory limit"
            return ExtractionLimitError(str(path), f"{name}: parsing stopped: {detail}")
        error: InputFileError
        if kind == REFUSED:
            return UnreadableDocumentError(str(path), f"{name}: {payload}")
        if kind == OCR_FAILED:
            return OcrError(str(path), f"{name}: it has scanned pages, and {payload}; turn OCR off in Settings to "
                                       "index only its text pages")
        if kind == ENCRYPTED:
            error = EncryptedPdfError(str(path), f"{name}: the PDF is encrypted and needs a password")
        elif kind == CIPHER:
            error = UnsupportedPdfError(str(path), f"{name}: the PDF is encrypted with an unsupported method")
        elif kind == COMPRESSION:
            error = UnsupportedPdfError(str(path), f"{name}: the PDF uses a compression method this program "
                                                   "cannot read")
        else:
            error = CorruptPdfError(str(path), f"{name}: the PDF is damaged and cannot be read")
        log.info("%s: %s (the parsers said: %s)", display_path(path), error, payload)
        return error


class _Deadline:
    """When the parent stops waiting for the child: the parse limit, then a minute per OCR page within
    an hour for all of them (see the module's docstring)."""

    def __init__(self, parse_s: float) -> None:
        self.parse_s = parse_s
        self.at = time.monotonic() + parse_s
        self.ocr_end: float | None = None

    def page_started(self) -> None:
        now = time.monotonic()
        if self.ocr_end is None:
            self.ocr_end = now + OCR_FILE_LIMIT_S
        self.at = min(now + OCR_PAGE_LIMIT_S, self.ocr_end)

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def reason(self) -> str:
        if self.ocr_end is None:
            return f"took longer than the {self.parse_s:g} s limit"
        if self.at >= self.ocr_end:
            return f"reading its scanned pages by OCR took longer than the {OCR_FILE_LIMIT_S / 60:g} min limit"
        return f"reading one page by OCR took longer than the {OCR_PAGE_LIMIT_S:g} s limit"


if __name__ == "__main__":
    serve_worker(int(sys.argv[1]))  # the memory limit in MB, as worker_command() passes it
