"""Model downloads against a local HTTP server on loopback serving the bundled GGUF: progress,
resume after a dropped connection and after Cancel, checksums, and what is never left behind."""

from __future__ import annotations

import errno
import hashlib
import http.server
import io
import re
import threading
from pathlib import Path
from typing import Iterator

import pytest

from desktop_rag.core.models.download import (
    DownloadProgress,
    ModelDownloadError,
    download_model,
    file_name_for,
    normalize_url,
)
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from desktop_rag.core.types import Events
from desktop_rag.errors import Cancelled

MODEL = bundled_llm_path()
SHA = hashlib.sha256(MODEL.read_bytes()).hexdigest()
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    data = MODEL.read_bytes()
    drop_after: int | None = None  # close the connection once after sending this many bytes of the body
    ranges_ok = True
    etag = f'"{SHA}"'
    ranges: list[str | None]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        s = self.server
        if self.path.startswith("/resolve/"):  # Hugging Face: the checksum rides on the redirect
            self.send_response(302)
            self.send_header("Location", "/cdn/" + self.path.rsplit("/", 1)[-1])
            self.send_header("X-Linked-ETag", s.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("missing.gguf"):
            self.send_error(404)
            return
        body = b"<html>Sign in to download</html>" if self.path.endswith("page.gguf") else s.data
        s.ranges.append(self.headers.get("Range"))
        self._send(body, re.match(r"bytes=(\d+)-", self.headers.get("Range") or ""))

    def _send(self, body: bytes, wanted: re.Match | None) -> None:
        s, start = self.server, 0
        if wanted and s.ranges_ok:
            start = int(wanted[1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        if not self.path.startswith("/cdn/"):
            self.send_header("ETag", s.etag)
        self.end_headers()
        if s.drop_after is not None and len(body) - start > s.drop_after:
            self.wfile.write(body[start:start + s.drop_after])
            s.drop_after = None
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture()
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.ranges = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv: _Server, path: str = f"/models/{NAME}") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def _run(url: str, dest: Path, **kwargs: object) -> tuple[list[DownloadProgress], Path]:
    events = Events(download_model(url, dest, retry_wait_s=0, **kwargs))
    progress = list(events)
    return progress, events.result


def test_a_download_reports_progress_and_lands_whole(server: _Server, tmp_path: Path) -> None:
    progress, path = _run(_url(server), tmp_path)
    assert path == tmp_path / NAME and path.read_bytes() == server.data
    downloading = [p for p in progress if p.stage == "downloading"]
    assert downloading[-1].done == downloading[-1].total == len(server.data)
    assert [p.done for p in downloading] == sorted(p.done for p in downloading)
    assert progress[-1].stage == "verifying"  # the server's ETag is a SHA-256: it was checked
    assert not list(tmp_path.glob("*.part"))


def test_a_dropped_connection_resumes_where_it_stopped(server: _Server, tmp_path: Path) -> None:
    server.drop_after = 10 * 2**20
    _, path = _run(_url(server), tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    assert server.ranges == [None, f"bytes={10 * 2**20}-"]


def test_cancel_keeps_the_part_file_and_the_next_download_resumes(server: _Server, tmp_path: Path) -> None:
    seen: list[int] = []
    with pytest.raises(Cancelled):
        for event in download_model(_url(server), tmp_path, should_stop=lambda: len(seen) >= 3):
            seen.append(event.done)
    part = tmp_path / (NAME + ".part")
    assert part.stat().st_size == seen[-1] and not (tmp_path / NAME).exists()  # never offered half-done
    _, path = _run(_url(server), tmp_path)
    assert path.read_bytes() == server.data and not part.exists()
    assert server.ranges[-1] == f"bytes={seen[-1]}-"


def test_a_server_that_ignores_ranges_is_downloaded_again_from_the_start(server: _Server, tmp_path: Path) -> None:
    (tmp_path / (NAME + ".part")).write_bytes(b"stale bytes from another file")
    server.ranges_ok = False
    _, path = _run(_url(server), tmp_path)
    assert path.read_bytes() == server.data


def test_the_hugging_face_checksum_on_the_redirect_is_checked(server: _Server, tmp_path: Path) -> None:
    server.etag = '"' + "0" * 64 + '"'
    with pytest.raises(ModelDownloadError, match="checksum mismatch: expected SHA-256 0000"):
        _run(_url(server, f"/resolve/main/{NAME}"), tmp_path)
    assert list(tmp_path.iterdir()) == []  # the damaged download is removed, nothing is left


def test_a_checksum_the_user_gives_is_checked(server: _Server, tmp_path: Path) -> None:
    server.etag = '"weak-etag-not-a-checksum"'
    with pytest.raises(ModelDownloadError, match="checksum mismatch"):
        _run(_url(server), tmp_path, sha256="f" * 64)
    _, path = _run(_url(server), tmp_path, sha256=SHA.upper())
    assert path.exists()
    with pytest.raises(ModelDownloadError, match="64 hexadecimal digits"):
        _run(_url(server, "/other.gguf"), tmp_path, sha256="abc")


def test_a_full_disk_stops_cleanly_and_removes_the_partial_file(server: _Server, tmp_path: Path) -> None:
    class _FullDisk(io.FileIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            if self.tell() + len(data) > 5 * 2**20:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    with pytest.raises(ModelDownloadError, match="the disk is full.*partial download was removed"):
        _run(_url(server), tmp_path, open_part=lambda path, mode: _FullDisk(path, mode.replace("b", "")))
    assert list(tmp_path.iterdir()) == []


def test_clear_errors_for_bad_addresses_and_what_is_not_a_model(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(ModelDownloadError, match="HTTP 404"):
        _run(_url(server, "/x/missing.gguf"), tmp_path)
    with pytest.raises(ModelDownloadError, match="not a usable model.*not a GGUF"):
        _run(_url(server, "/x/page.gguf"), tmp_path)
    with pytest.raises(ModelDownloadError, match="not a web address"):
        _run("ftp://example.com/a.gguf", tmp_path)
    with pytest.raises(ModelDownloadError, match="failed"):
        _run("http://127.0.0.1:9/a.gguf", tmp_path, retries=1)  # nothing listens on the discard port
    assert list(tmp_path.iterdir()) == []


def test_an_existing_model_is_not_overwritten(server: _Server, tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"mine")
    with pytest.raises(ModelDownloadError, match="already exists"):
        _run(_url(server), tmp_path)
    assert (tmp_path / NAME).read_bytes() == b"mine"


def test_urls_and_file_names() -> None:
    assert normalize_url("https://huggingface.co/Qwen/Q-GGUF/blob/main/q4.gguf") == \
        "https://huggingface.co/Qwen/Q-GGUF/resolve/main/q4.gguf"
    assert file_name_for("https://h.co/a/Qwen3%204B.Q4_K_M.gguf?download=true") == "Qwen3_4B.Q4_K_M.gguf"
    assert file_name_for("https://h.co/a/../..") == "model.gguf"
