"""Download a GGUF model from a URL: resumable, cancellable, checked, and atomic.

The bytes go to ``<name>.gguf.part`` beside the destination; a dropped connection resumes where it
stopped (HTTP ``Range``), and so does a later call after Cancel. Only once the whole file is there,
its SHA-256 matches (the user's, else the one the server publishes: Hugging Face sends it as the
``X-Linked-ETag`` of the redirect to its storage, or the ``ETag``, for files kept with Git LFS) and
its header reads as a GGUF language model is it renamed to ``<name>.gguf``: nothing half
downloaded is ever where models are looked for. A checksum that does not match, a file that is
not a model or a full disk remove the partial file; a cancel or a network failure keeps it, to
resume.

:func:`download_model` is a generator of :class:`DownloadProgress` returning the final path, like
every long operation here: the CLI draws a bar from it, the GUI runs it in a worker.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Generator

from desktop_rag.core.models.chat import never
from desktop_rag.core.models.gguf_info import check_language_model, read_gguf_info
from desktop_rag.errors import Cancelled, ModelDownloadError, ModelError

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
MAX_RETRIES = 5  # connection drops in a row without a byte received before giving up
TIMEOUT_S = 30.0
USER_AGENT = "desktop-rag (model download)"
_SHA256 = re.compile(r'^(?:W/)?"?([0-9a-fA-F]{64})"?$')
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """``stage`` is "downloading" or "verifying"; ``total`` None while the size is unknown."""

    done: int
    total: int | None
    stage: str = "downloading"
    resumed_from: int = 0


def normalize_url(url: str) -> str:
    """An http(s) URL of the file itself: a Hugging Face page link (``/blob/``) becomes its
    download link (``/resolve/``)."""
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelDownloadError(f"not a web address: {url!r} (paste an http:// or https:// link to a .gguf file)")
    if parts.netloc.endswith("huggingface.co") and "/blob/" in parts.path:
        parts = parts._replace(path=parts.path.replace("/blob/", "/resolve/", 1))
    return urllib.parse.urlunsplit(parts)


def file_name_for(url: str) -> str:
    """The file name the URL ends in, as a safe local name ending in .gguf."""
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\-+]", "_", name).lstrip(".") or "model"
    return name if name.lower().endswith(".gguf") else name + ".gguf"


def published_sha256(headers: list[Any]) -> str | None:
    """The SHA-256 a server published for the file: an ``X-Linked-ETag`` or ``ETag`` of 64 hex digits
    (Hugging Face's for LFS files), in any of the responses on the way (redirects included)."""
    for h in headers:
        if h is None:
            continue
        for name in ("X-Linked-ETag", "ETag"):
            found = _SHA256.match((h.get(name) or "").strip())
            if found:
                return found[1].lower()
    return None


class _RecordRedirects(urllib.request.HTTPRedirectHandler):
    """Keeps the headers of each redirect: Hugging Face puts the checksum on the first one."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        self.seen.append(headers)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _http_error(exc: urllib.error.HTTPError, url: str) -> ModelDownloadError:
    if exc.code in (401, 403):
        why = "the server refused access; gated models must be downloaded in a browser after logging in"
    elif exc.code == 404:
        why = "no file at this address; check the link (on Hugging Face, copy the file's download link)"
    else:
        why = exc.reason
    return ModelDownloadError(f"download failed: HTTP {exc.code} ({why}): {url}")


@dataclass(slots=True)
class _Transfer:
    url: str
    part: Path
    open_part: Callable[[Path, str], IO[bytes]]
    opener: urllib.request.OpenerDirector
    redirects: list[Any]
    total: int | None = None
    last_headers: Any = None  # of the last response, for the checksum it may publish

    def request(self, offset: int) -> Any:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            return self.opener.open(urllib.request.Request(self.url, headers=headers), timeout=TIMEOUT_S)
        except urllib.error.HTTPError as exc:
            self.last_headers = exc.headers
            if exc.code == 416 and offset:  # nothing after offset: the part may be whole already
                return None
            if exc.code >= 500:
                raise ConnectionError(f"HTTP {exc.code}") from exc
            raise _http_error(exc, self.url) from None

    def start_offset(self, response: Any, offset: int) -> int:
        """Where the response's bytes go; sets ``total`` (None if the server does not say)."""
        self.last_headers = response.headers
        found = _CONTENT_RANGE.match(response.headers.get("Content-Range") or "")
        if response.status == 206 and found and int(found[1]) == offset:
            self.total = int(found[3]) if found[3] != "*" else None
            return offset
        length = response.headers.get("Content-Length")  # 200: the whole file from its start
        self.total = int(length) if length and length.isdigit() else None
        return 0

    def receive(self, response: Any, offset: int, should_stop: Callable[[], bool]
                ) -> Generator[DownloadProgress, None, int]:
        """Write the response's bytes from ``offset``; returns the part file's size after."""
        _check_space(self.part.parent, (self.total or 0) - offset)
        done = offset
        try:
            with self.open_part(self.part, "r+b" if offset else "wb") as fh:
                fh.seek(offset)
                fh.truncate()
                while block := response.read(CHUNK_BYTES):
                    fh.write(block)
                    done += len(block)
                    yield DownloadProgress(done, self.total)
                    if should_stop():
                        raise Cancelled("download cancelled; it resumes from here next time")
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                self.part.unlink(missing_ok=True)
                raise ModelDownloadError(f"the disk is full: {self.part.parent} has no room for the model; "
                                         "the partial download was removed") from exc
            if not isinstance(exc, _NETWORK_ERRORS):
                raise ModelDownloadError(f"cannot write {self.part}: {exc}") from exc
            raise
        return done


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ModelDownloadError(f"not enough free space in {folder}: the model needs {needed / 2**30:.2f} GB more, "
                                 f"{free / 2**30:.2f} GB is free")


def _fetch(t: _Transfer, should_stop: Callable[[], bool], retries: int, retry_wait_s: float
           ) -> Generator[DownloadProgress, None, None]:
    """Bring the part file to the whole file, resuming after each dropped connection."""
    failures = 0
    while True:
        offset = t.part.stat().st_size if t.part.exists() else 0
        try:
            response = t.request(offset)
            if response is None:
                return
            with response:
                start = t.start_offset(response, offset)
                if start or offset:
                    log.info("resuming %s at %d bytes", t.part.name, start)
                done = yield from t.receive(response, start, should_stop)
            if t.total is None or done >= t.total:
                return
            raise ConnectionError(f"the connection closed after {done} of {t.total} bytes")
        except _NETWORK_ERRORS as exc:
            now = t.part.stat().st_size if t.part.exists() else 0
            failures = 0 if now > offset else failures + 1
            if failures > retries:
                raise ModelDownloadError(f"download failed: {exc}; the partial file is kept and the download "
                                         "resumes from it when you try again") from exc
            log.warning("download interrupted (%s); resuming", exc)
            if should_stop():
                raise Cancelled("download cancelled; it resumes from here next time") from exc
            time.sleep(retry_wait_s * failures)


def _sha256(path: Path, should_stop: Callable[[], bool]) -> Generator[DownloadProgress, None, str]:
    digest, done, total = hashlib.sha256(), 0, path.stat().st_size
    with path.open("rb") as fh:
        while block := fh.read(8 * CHUNK_BYTES):
            digest.update(block)
            done += len(block)
            yield DownloadProgress(done, total, "verifying")
            if should_stop():
                raise Cancelled("download cancelled while checking it; the file is kept to check again")
    return digest.hexdigest()


def _verify(part: Path, expected: str | None, should_stop: Callable[[], bool]
            ) -> Generator[DownloadProgress, None, None]:
    """The header (what arrived may be a web page) and the checksum, when one is known; a
    failure removes the part file."""
    try:
        check_language_model(read_gguf_info(part))
    except ModelError as exc:
        part.unlink(missing_ok=True)
        raise ModelDownloadError(f"the download is not a usable model, so it was removed: {exc}") from exc
    if expected:
        actual = yield from _sha256(part, should_stop)
        if actual != expected.lower():
            part.unlink(missing_ok=True)
            raise ModelDownloadError(f"checksum mismatch: expected SHA-256 {expected}, got {actual}; the download "
                                     "was damaged or the file has changed; it was removed, try again")


def download_model(url: str, dest_dir: Path, *, sha256: str | None = None, should_stop: Callable[[], bool] = never,
                   open_part: Callable[[Path, str], IO[bytes]] = open, retries: int = MAX_RETRIES,
                   retry_wait_s: float = 1.0) -> Generator[DownloadProgress, None, Path]:
    """Download the GGUF at ``url`` into ``dest_dir``; returns its path. ``sha256``: the checksum the
    user gave (else the one the server publishes, if any). ``open_part`` opens the partial file."""
    url = normalize_url(url)
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
        raise ModelDownloadError(f"a SHA-256 is 64 hexadecimal digits, not {sha256!r}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / file_name_for(url)
    if final.exists():
        raise ModelDownloadError(f"{final} already exists; use it, or delete it to download it again")
    part = final.with_name(final.name + ".part")
    redirects: list[Any] = []
    opener = urllib.request.build_opener(_RecordRedirects(redirects))
    transfer = _Transfer(url, part, open_part, opener, redirects)
    yield from _fetch(transfer, should_stop, retries, retry_wait_s)
    expected = sha256.strip() if sha256 else published_sha256(redirects + [transfer.last_headers])
    yield from _verify(part, expected, should_stop)
    os.replace(part, final)
    log.info("downloaded %s (%d bytes, checksum %s)", final, final.stat().st_size, "checked" if expected else "none")
    return final
