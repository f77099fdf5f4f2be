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
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.ingest.files import checked_stat, file_access_error
from desktop_rag.core.ingest.formats import DOCX_SUFFIX, FORMAT_NAMES, MAX_DOCX_BYTES, MAX_TEXT_BYTES, is_pdf, suffix_of
from desktop_rag.core.ingest.parse import CIPHER, COMPRESSION, ENCRYPTED, LIMIT, parse_pdf
from desktop_rag.core.ingest.textparse import REFUSED, parse_document
from desktop_rag.core.types import Page
from desktop_rag.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    ExtractionLimitError,
    InputFileError,
    NoTextError,
    NotAPdfError,
    UnreadableDocumentError,
    UnsupportedPdfError,
)

log = logging.getLogger(__name__)

# Control characters, and unpaired UTF-16 halves a broken text layer leaves (SQLite cannot store them).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def normalize_page_text(text: str) -> str:
    """Unify line breaks and drop control characters (and broken UTF-16) parsers leave in page text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


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


def parse_file(path: str) -> tuple[str, Any]:
    """The child's answer for one file: the PDF parsers for a PDF, :mod:`.textparse` for the rest."""
    return parse_pdf(path) if is_pdf(path) else parse_document(path)


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    pages: list[Page]
    title: str


# ---------------------------------------------------------------- child side


def serve_worker(memory_mb: int) -> None:
    """Child main loop: read a JSON path per line on stdin, answer one JSON line on stdout."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on Windows; the time limit still applies
        pass
    out = sys.stdout
    sys.stdout = sys.stderr  # a stray print from a parser must not corrupt the protocol
    for line in sys.stdin:
        kind, payload = parse_file(json.loads(line))
        out.write(json.dumps([kind, payload]) + "\n")
        out.flush()


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

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
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
        path = Path(path)
        if is_pdf(path):
            check_pdf_file(path)
        else:
            check_document_file(path)
        kind, payload = self._round_trip(path)
        if kind != "ok":
            raise self._error(path, kind, payload)
        raw_pages, title, image_pages = payload
        pages = [Page(number, normalize_page_text(text), *label) for number, text, *label in raw_pages]
        if not is_pdf(path) and not any(p.text.strip() for p in pages):
            raise NoTextError(str(path), f"{display_name(path)}: no text in it")
        if not pages:
            raise CorruptPdfError(str(path), f"{display_name(path)}: the PDF has no pages")
        if not any(p.text.strip() for p in pages):
            raise _no_text(path, len(pages), image_pages)
        return ExtractedDocument(pages, normalize_page_text(title).strip())

    def _round_trip(self, path: Path) -> tuple[str, Any]:
        process = self._start()
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(str(path)) + "\n")
            process.stdin.flush()
            line = self._replies.get(timeout=self.timeout_s)
        except queue.Empty:
            self._kill()
            return LIMIT, f"took longer than the {self.timeout_s:g} s limit"
        except OSError:
            line = None
        if line is None:
            code = process.wait(5)
            self._process = None
            log.warning("extraction child died on %s (exit code %s)", display_path(path), code)
            return LIMIT, f"the parser ran out of its {self.memory_mb} MB memory limit or crashed (exit code {code})"
        kind, payload = json.loads(line)
        return kind, payload

    def _error(self, path: Path, kind: str, payload: str) -> InputFileError:
        """The plain reason for a failure; what the parsers said goes to the log (see :mod:`.parse`)."""
        name = display_name(path)
        if kind == LIMIT:
            detail = f"exceeded the {self.memory_mb} MB memory limit" if payload == "memory" else payload
            return ExtractionLimitError(str(path), f"{name}: parsing stopped: {detail}")
        error: InputFileError
        if kind == REFUSED:
            return UnreadableDocumentError(str(path), f"{name}: {payload}")
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


def _no_text(path: Path, page_count: int, image_pages: int) -> NoTextError:
    """No text on any page: a scan when its pages hold images (OCR would help), else just no text."""
    where = "on its one page" if page_count == 1 else f"on any of its {page_count} pages"
    if image_pages:
        return NoTextError(str(path), f"{display_name(path)}: no text {where}, only images: it is probably "
                                      "scanned; make it searchable with an OCR program and add it again")
    return NoTextError(str(path), f"{display_name(path)}: no text {where}")


if __name__ == "__main__":
    serve_worker(int(sys.argv[1]))  # the memory limit in MB, as worker_command() passes it
