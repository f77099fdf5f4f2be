"""File -> pages. Parsing runs in a child process with a time and a memory limit.

PDF parsers are large C and Python code bases fed untrusted input: a hostile file can make
them loop, allocate without bound (pdfium grew past 15 GB on a decompression bomb) or crash.
So the parser lives in a child process whose address space is capped with ``RLIMIT_AS``; the
parent waits at most ``timeout_s`` per file and kills the child when it overruns, then starts a
fresh one for the next file. pypdfium2 is the primary parser (about 15x faster than pypdf on
our corpus, and it reads filings pypdf rejects); pypdf is the fallback when pdfium cannot open
a file.
"""

from __future__ import annotations

import errno
import logging
import json
import os
import queue
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_rag.core.types import Page
from desktop_rag.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    ExtractionLimitError,
    FileAccessError,
    InputFileError,
    NoTextError,
    NotAPdfError,
)

log = logging.getLogger(__name__)

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def normalize_page_text(text: str) -> str:
    """Unify line breaks and drop control characters parsers leave in page text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


def file_access_error(path: Path, exc: OSError) -> FileAccessError:
    """The error for a file that cannot be found or read, worded for the user."""
    if isinstance(exc, FileNotFoundError):
        return FileAccessError(str(path), f"{path}: file not found")
    if isinstance(exc, PermissionError):
        return FileAccessError(str(path), f"{path}: cannot be read (permission denied)")
    return FileAccessError(str(path), f"{path}: cannot be read ({exc.strerror or exc})")


def check_pdf_file(path: Path) -> None:
    """Cheap checks in the parent, before any parser sees the file."""
    try:
        if not path.exists():
            raise FileNotFoundError(path)
        if path.is_dir():
            raise FileAccessError(str(path), f"{path}: is a folder, not a file")
        with path.open("rb") as fh:
            head = fh.read(1024)
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError as exc:
        raise file_access_error(path, exc) from exc
    if size == 0:
        raise NotAPdfError(str(path), f"{path.name}: empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise NotAPdfError(str(path), f"{path.name}: not a PDF file (no %PDF header)")
    if b"%%EOF" not in tail:
        raise CorruptPdfError(
            str(path), f"{path.name}: the PDF is truncated (no end-of-file marker); was the download incomplete?"
        )


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    pages: list[Page]
    title: str


# ---------------------------------------------------------------- child side


def _pages_with_pdfium(path: str) -> tuple[list[tuple[int, str]], str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        title = str(doc.get_metadata_dict().get("Title", "") or "")
        pages = []
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            pages.append((index + 1, textpage.get_text_range()))
            textpage.close()
            page.close()
        return pages, title
    finally:
        doc.close()


def _pages_with_pypdf(path: str) -> tuple[list[tuple[int, str]], str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise PermissionError("password required")
    title = str((reader.metadata or {}).get("/Title", "") or "")
    return [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)], title


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or a parser library that could not be loaded under the address-space cap.

    Under a small cap ``dlopen`` fails ("failed to map segment") as ImportError or OSError; that is
    the limit talking, not a damaged file.
    """
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, (ImportError, OSError)) and (
        getattr(exc, "errno", None) == errno.ENOMEM or "failed to map segment" in str(exc)
    )


def _extract_in_child(path: str) -> tuple[str, Any]:
    try:
        return "ok", _pages_with_pdfium(path)
    except Exception as exc:  # noqa: BLE001 - any pdfium failure falls back to pypdf
        if _out_of_memory(exc):
            return "limit", "memory"
        first = str(exc)
    if "password" in first.lower():
        return "encrypted", first
    try:
        return "ok", _pages_with_pypdf(path)
    except PermissionError:
        return "encrypted", first
    except Exception as exc:  # noqa: BLE001 - pypdf raises AssertionError, TypeError, ... on broken files
        if _out_of_memory(exc):
            return "limit", "memory"
        return "corrupt", f"{first}; pypdf: {type(exc).__name__}: {exc}"


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
        kind, payload = _extract_in_child(json.loads(line))
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
        check_pdf_file(path)
        kind, payload = self._round_trip(path)
        if kind != "ok":
            raise self._error(path, kind, payload)
        raw_pages, title = payload
        pages = [Page(number, normalize_page_text(text)) for number, text in raw_pages]
        if not pages:
            raise CorruptPdfError(str(path), f"{path.name}: the PDF has no pages")
        if not any(p.text.strip() for p in pages):
            raise NoTextError(
                str(path),
                f"{path.name}: no extractable text in {len(pages)} page(s); "
                "it is probably scanned images - run OCR on it first",
            )
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
            return "limit", f"took longer than the {self.timeout_s:g} s limit"
        except OSError:
            line = None
        if line is None:
            code = process.wait(5)
            self._process = None
            log.warning("extraction child died on %s (exit code %s)", path, code)
            return "limit", f"the parser ran out of its {self.memory_mb} MB memory limit or crashed (exit code {code})"
        kind, payload = json.loads(line)
        return kind, payload

    def _error(self, path: Path, kind: str, payload: str) -> InputFileError:
        if kind == "encrypted":
            return EncryptedPdfError(str(path), f"{path.name}: the PDF is encrypted and needs a password")
        if kind == "limit":
            detail = f"exceeded the {self.memory_mb} MB memory limit" if payload == "memory" else payload
            return ExtractionLimitError(str(path), f"{path.name}: parsing stopped: {detail}")
        return CorruptPdfError(str(path), f"{path.name}: the PDF is damaged and cannot be read ({payload})")


if __name__ == "__main__":
    serve_worker(int(sys.argv[1]))  # the memory limit in MB, as worker_command() passes it
