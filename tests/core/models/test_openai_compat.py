"""OpenAICompatibleChatModel against tiny loopback HTTP servers and a real llama.cpp server."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from desktop_rag.config import Settings
from desktop_rag.core.models.chat import ChatModel
from desktop_rag.core.models.openai_compat import OpenAICompatibleChatModel
from desktop_rag.errors import Cancelled, RemoteModelError

pytestmark = pytest.mark.timeout(300)

KEY_ENV = "DESKTOP_RAG_TEST_API_KEY"
SECRET = "sk-test-secret-0123456789"
MESSAGES = [{"role": "user", "content": "Name three colors."}]
HOLD_S = 10.0  # how long a "slow" fake handler waits before answering anyway
DEFAULTS = {"api_key_env": Settings().remote_api_key_env, "context_size": Settings().n_ctx}


def remote(base_url: str, model: str, **options: Any) -> OpenAICompatibleChatModel:
    """The client as the settings make it, with what the test sets itself."""
    return OpenAICompatibleChatModel(base_url, model, **{**DEFAULTS, **options})


# ---------------------------------------------------------------- tiny in-process servers


class FakeServer:
    """Records every request; ``respond(handler)`` writes the answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.request_seen = threading.Event()
        self.release = threading.Event()
        self.respond: Callable[[BaseHTTPRequestHandler], None] = lambda h: send_json(h, 200, {})
        self.base_url = ""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        fake.request_seen.set()
        try:
            fake.respond(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up, which some tests intend

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


def send_raw(handler: BaseHTTPRequestHandler, status: int, content_type: str, text: str) -> None:
    raw = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


def start_sse(handler: BaseHTTPRequestHandler) -> None:
    """Headers of an event stream with no length: the body ends when the connection closes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    handler.wfile.flush()


def sse_lines(*lines: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        start_sse(handler)
        for line in lines:
            handler.wfile.write(line.encode() + b"\r\n")
            handler.wfile.flush()

    return respond


def chunk(content: str) -> str:
    return "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}}]})


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.fake = server  # type: ignore[attr-defined]
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.release.set()  # let slow handlers finish so the server stops promptly
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening, so connecting is refused (no reuse race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def stream(model: OpenAICompatibleChatModel, should_stop: Callable[[], bool] = lambda: False) -> list[str]:
    return list(model.stream_chat(MESSAGES, max_tokens=32, temperature=0.0, should_stop=should_stop))


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "openai-compat-reader"]



# ---------------------------------------------------------------- the happy path, with a fake


def test_streams_delta_content_and_ignores_keep_alives(fake: FakeServer) -> None:
    fake.respond = sse_lines(
        ": keep-alive", "",
        'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}', "",
        chunk("Red,"), "",
        "event: message", "id: 3", chunk(" green"), "",
        'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}', "",
        "data: [DONE]", "",
        chunk(" AFTER DONE"), "",
    )
    model = remote(fake.base_url, "tiny", api_key_env=KEY_ENV)

    assert stream(model) == ["Red,", " green"]
    request = fake.requests[0]
    assert (request["method"], request["path"]) == ("POST", "/v1/chat/completions")
    sent = json.loads(request["body"])
    assert sent["stream"] is True and sent["model"] == "tiny" and sent["messages"] == MESSAGES
    assert sent["max_tokens"] == 32 and sent["temperature"] == 0.0


def test_a_server_that_ignores_stream_still_answers(fake: FakeServer) -> None:
    fake.respond = lambda h: send_json(h, 200, {"choices": [{"message": {"role": "assistant", "content": "whole"}}]})
    assert stream(remote(fake.base_url, "tiny")) == ["whole"]


def test_protocol_and_token_estimate() -> None:
    model = remote("http://127.0.0.1:9/v1", "tiny", context_size=2048)
    assert isinstance(model, ChatModel)
    assert (model.name, model.context_size) == ("tiny", 2048)
    assert [model.count_tokens(t) for t in ("", "a", "abc", "abcd")] == [0, 1, 1, 2]


@pytest.mark.parametrize("url", ["", "127.0.0.1:8080/v1", "ftp://host/v1", "http:///v1"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(RemoteModelError, match="http:// or https://"):
        remote(url, "tiny")


# ---------------------------------------------------------------- API key


def test_api_key_header_sent_only_when_the_variable_is_set(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.respond = lambda h: send_json(h, 200, {"choices": [{"message": {"role": "assistant", "content": "ok"}}]})
    model = remote(fake.base_url, "m", api_key_env=KEY_ENV)

    monkeypatch.setenv(KEY_ENV, SECRET)
    stream(model)
    monkeypatch.delenv(KEY_ENV)
    stream(model)

    first, second = (dict((k.lower(), v) for k, v in r["headers"].items()) for r in fake.requests)
    assert first["authorization"] == f"Bearer {SECRET}"
    assert "authorization" not in second


def test_401_shows_the_server_message_and_the_variable_name_never_the_key(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(KEY_ENV, SECRET)
    body = {"error": {"message": f"Incorrect API key provided: {SECRET}", "type": "invalid_request_error",
                      "code": "invalid_api_key"}}
    fake.respond = lambda h: send_json(h, 401, body)
    model = remote(fake.base_url, "tiny", api_key_env=KEY_ENV)

    with pytest.raises(RemoteModelError) as info:
        stream(model)

    message = str(info.value)
    assert "401" in message and "Incorrect API key provided" in message
    assert KEY_ENV in message and fake.base_url in message
    assert SECRET not in message and SECRET not in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"detail": "CUDA out of memory"}, "CUDA out of memory"),
        (400, {"error": {"message": "max_tokens is too large"}}, "max_tokens is too large"),
        (404, b"Not Found", "check the server URL"),
        (503, b"", "503"),
    ],
)
def test_http_errors_carry_the_server_message(fake: FakeServer, status: int, body: Any, expected: str) -> None:
    fake.respond = lambda h: send_json(h, status, body)
    with pytest.raises(RemoteModelError, match=expected) as info:
        stream(remote(fake.base_url, "tiny"))
    assert fake.base_url in str(info.value)


# ---------------------------------------------------------------- unreachable, slow, garbage


def test_connection_refused_names_the_url(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1"
    with pytest.raises(RemoteModelError, match="connection refused") as info:
        stream(remote(url, "tiny"))
    assert url in str(info.value)


def test_a_silent_server_times_out(fake: FakeServer) -> None:
    def never_answer(handler: BaseHTTPRequestHandler) -> None:
        fake.release.wait(HOLD_S)

    fake.respond = never_answer
    model = remote(fake.base_url, "tiny", timeout_s=0.5)
    with pytest.raises(RemoteModelError, match="timed out") as info:
        stream(model)
    assert fake.base_url in str(info.value)
    assert not fake.release.is_set()  # it gave up on its own, not because the server answered


def test_a_stream_that_stalls_midway_times_out(fake: FakeServer) -> None:
    def stall(handler: BaseHTTPRequestHandler) -> None:
        sse_lines(chunk("one"), "")(handler)
        fake.release.wait(HOLD_S)

    fake.respond = stall
    pieces: list[str] = []
    with pytest.raises(RemoteModelError, match="timed out"):
        for piece in remote(fake.base_url, "tiny", timeout_s=0.5).stream_chat(
            MESSAGES, max_tokens=8, temperature=0.0
        ):
            pieces.append(piece)
    assert pieces == ["one"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["data: {not json", ""], "malformed JSON"),
        (["<html><body>It works!</body></html>"], "no server-sent events"),
        ([], "without sending anything"),
        (["data: [DONE]", ""], "without any text"),
        ([chunk(""), "", "data: [DONE]", ""], "without any text"),
        (['data: {"id": 1}', ""], "unexpected object"),
        (['data: {"error": {"message": "model overloaded"}}', ""], "model overloaded"),
    ],
)
def test_garbage_streams(fake: FakeServer, lines: list[str], expected: str) -> None:
    fake.respond = sse_lines(*lines)
    with pytest.raises(RemoteModelError, match=expected) as info:
        stream(remote(fake.base_url, "tiny"))
    assert fake.base_url in str(info.value)


# ---------------------------------------------------------------- Stop


def test_stop_between_pieces(fake: FakeServer) -> None:
    fake.respond = sse_lines(*[line for i in range(6) for line in (chunk(f"p{i} "), "")], "data: [DONE]", "")
    pieces: list[str] = []
    with pytest.raises(Cancelled):
        for piece in remote(fake.base_url, "tiny").stream_chat(
            MESSAGES, max_tokens=8, temperature=0.0, should_stop=lambda: len(pieces) >= 2
        ):
            pieces.append(piece)
    assert pieces == ["p0 ", "p1 "]
    assert not reader_threads()


def test_closing_the_stream_early_hangs_up(fake: FakeServer) -> None:
    hung_up = threading.Event()

    def endless(handler: BaseHTTPRequestHandler) -> None:
        start_sse(handler)
        try:
            for i in range(1000):  # bounded: the write fails soon after the client has closed
                handler.wfile.write((chunk(f"p{i} ") + "\r\n\r\n").encode())
                handler.wfile.flush()
                time.sleep(0.01)
        except OSError:
            hung_up.set()

    fake.respond = endless
    chat = remote(fake.base_url, "tiny").stream_chat(MESSAGES, max_tokens=8, temperature=0.0)
    assert next(chat) == "p0 "
    chat.close()
    assert not reader_threads()
    assert hung_up.wait(HOLD_S)


def test_stop_while_the_server_is_still_thinking(fake: FakeServer) -> None:
    """Stop works before the first token (a long prompt on a slow server) and hangs up on the server."""
    hung_up = threading.Event()

    def think(handler: BaseHTTPRequestHandler) -> None:
        start_sse(handler)
        fake.release.wait(HOLD_S)
        try:
            for _ in range(50):  # bounded: the write fails soon after the client has closed
                handler.wfile.write((chunk("late") + "\r\n\r\n").encode())
                handler.wfile.flush()
                time.sleep(0.01)
        except OSError:
            hung_up.set()

    fake.respond = think
    model = remote(fake.base_url, "tiny", timeout_s=30.0)
    with pytest.raises(Cancelled):
        stream(model, should_stop=fake.request_seen.is_set)
    assert not fake.release.is_set()  # cancelled while the server had sent nothing
    assert not reader_threads()
    fake.release.set()
    assert hung_up.wait(HOLD_S)


# ---------------------------------------------------------------- a real llama.cpp server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with the bundled GGUF on a loopback port; yields the base URL."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    from desktop_rag.core.models.llama_cpp import bundled_llm_path

    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_llm_path()),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=dict(os.environ))
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(proc, base_url + "/models", log_path, limit_s=120.0)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _wait_until_ready(proc: subprocess.Popen, url: str, log_path: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer {url} within {limit_s:g} s:\n{log_path.read_text(errors='replace')[-3000:]}")


def served_models(base_url: str) -> list[str]:
    """The model ids the server offers (``GET /models``)."""
    with urllib.request.urlopen(base_url + "/models", timeout=10) as resp:  # noqa: S310 - loopback only
        return [str(entry["id"]) for entry in json.loads(resp.read())["data"]]


@pytest.fixture(scope="session")
def served_model(llama_server: str) -> OpenAICompatibleChatModel:
    return remote(llama_server, served_models(llama_server)[0], context_size=2048, timeout_s=120.0)


@pytest.mark.integration
def test_real_server_lists_the_bundled_model(llama_server: str) -> None:
    from desktop_rag.core.models.llama_cpp import bundled_llm_path

    models = served_models(llama_server)
    assert any(Path(m).name == bundled_llm_path().name for m in models), models


@pytest.mark.integration
def test_real_server_streams_and_stops(served_model: OpenAICompatibleChatModel) -> None:
    pieces = list(served_model.stream_chat(MESSAGES, max_tokens=48, temperature=0.0))
    assert len(pieces) >= 3 and all(pieces)
    assert "".join(pieces).strip()

    received: list[str] = []
    polls_after_stop = 0

    def should_stop() -> bool:
        nonlocal polls_after_stop
        polls_after_stop += len(received) >= 2
        return len(received) >= 2

    chat = served_model.stream_chat(MESSAGES, max_tokens=48, temperature=0.0, should_stop=should_stop)
    with pytest.raises(Cancelled):
        for piece in chat:
            received.append(piece)
    assert received == pieces[:2]  # same prompt, greedy: the stream stopped right after the 2nd piece
    assert polls_after_stop == 1  # the first poll that said stop ended it
    assert not reader_threads()  # and the connection is closed: nothing is left reading it
    with pytest.raises(StopIteration):
        next(chat)
    # the server is not wedged by the hang-up: it answers again
    assert "".join(served_model.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)).strip()


@pytest.mark.integration
def test_real_server_prompt_longer_than_its_context(served_model: OpenAICompatibleChatModel) -> None:
    too_long = [{"role": "user", "content": "word " * 3000}]  # n_ctx is 2048
    with pytest.raises(RemoteModelError, match="context"):
        list(served_model.stream_chat(too_long, max_tokens=8, temperature=0.0))
