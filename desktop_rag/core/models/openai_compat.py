"""ChatModel over any OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama, ...).

Standard library only (``http.client``). ``stream_chat`` POSTs ``{base_url}/chat/completions``
with ``stream: true`` and yields the ``delta.content`` of each server-sent event until
``data: [DONE]``. The response is read by a short-lived helper thread that only moves lines
into a queue, so the calling thread can poll ``should_stop`` while it waits: Stop works even
while the server is still processing a long prompt, and it closes the socket at once.

There is no tokenizer for a remote model, so ``count_tokens`` is an estimate that errs high:
one token per 3 characters (English BPE vocabularies average about 4).

The API key is read from the environment variable named ``api_key_env`` at request time,
sent only as an ``Authorization`` header, never logged and removed from server messages.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import os
import queue
import socket
import ssl
import threading
import time
from contextlib import closing, suppress
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

from desktop_rag.core.models.chat import Message, never
from desktop_rag.errors import Cancelled, RemoteModelError

log = logging.getLogger(__name__)

CHARS_PER_TOKEN_ESTIMATE = 3
POLL_INTERVAL_S = 0.05
MAX_LINE_BYTES = 1 << 20
MAX_BODY_BYTES = 4 << 20
READER_JOIN_S = 2.0


class OpenAICompatibleChatModel:
    """A chat model served over HTTP by an OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str,
        context_size: int,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteModelError(f"the server URL {base_url!r} must start with http:// or https:// and name a host")
        self.model = model
        self.api_key_env = api_key_env
        self._context_size = context_size
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s

    @property
    def name(self) -> str:
        return self.model or urlsplit(self.base_url).netloc

    @property
    def context_size(self) -> int:
        return self._context_size

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (no tokenizer is available for a remote model)."""
        return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool] = never,
    ) -> Iterator[str]:
        if should_stop():
            raise Cancelled("generation stopped")
        url = self.base_url + "/chat/completions"
        payload: dict[str, Any] = {"messages": list(messages), "max_tokens": max_tokens,
                                   "temperature": temperature, "stream": True}
        if self.model:
            payload["model"] = self.model  # llama.cpp and vLLM serve their one model when it is left out
        started, pieces = time.perf_counter(), 0
        with closing(self._exchange("POST", url, payload, should_stop)) as events:
            for piece in self._pieces(events, url):
                pieces += 1
                yield piece
        if pieces == 0:
            raise RemoteModelError(f"{url} ended the answer stream without any text")
        log.debug("%s: %d pieces in %.1f s", url, pieces, time.perf_counter() - started)

    def _pieces(self, events: Iterator[tuple[str, Any]], url: str) -> Iterator[str]:
        """Text pieces from the event stream (or from a plain JSON body, for servers that ignore stream)."""
        data: list[str] = []
        saw_lines = saw_events = False
        for kind, value in events:
            if kind == "body":
                status, reason, body = value
                if status >= 400:
                    raise self._http_error(status, reason, body, url)
                content = self._content(_parse_json(body, url), url, "message")
                if content:
                    yield content
                return
            line = value.decode("utf-8", errors="replace").rstrip("\r\n") if kind == "line" else ""
            saw_lines = saw_lines or kind == "line"
            if kind == "line" and line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif (kind == "end" or not line) and data:  # a blank line ends an event
                payload, data = "\n".join(data), []
                saw_events = True
                if payload.strip() == "[DONE]":
                    return
                content = self._content(_parse_json(payload, url), url, "delta")
                if content:
                    yield content
            # comments (":" keep-alives), "event:", "id:" and "retry:" lines are ignored
        if not saw_lines:  # llama.cpp's Python server does this when the prompt exceeds its context
            raise RemoteModelError(f"{url} closed the answer stream without sending anything; the server's log "
                                   "may say why (a prompt longer than the server's context size?)")
        if not saw_events:
            raise RemoteModelError(f"{url} sent no server-sent events; is it an OpenAI-compatible endpoint?")

    def _exchange(
        self, method: str, url: str, payload: dict[str, Any] | None, should_stop: Callable[[], bool]
    ) -> Iterator[tuple[str, Any]]:
        """Send a request and yield the reader's events, polling ``should_stop`` while waiting.

        Events: ("line", bytes) ... ("end", None), or one ("body", (status, reason, bytes)).
        Closing this generator closes the connection at once, even mid-read.
        """
        conn, sock = self._send(method, url, payload)
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        reader = threading.Thread(target=_read_response, args=(conn, events),
                                  name="openai-compat-reader", daemon=True)
        reader.start()
        # The reader's socket times out after timeout_s of silence; this deadline is only a backstop.
        deadline = time.monotonic() + self.timeout_s + 5.0
        try:
            while True:
                if should_stop():
                    raise Cancelled("generation stopped")
                try:
                    kind, value = events.get(timeout=POLL_INTERVAL_S)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise RemoteModelError(f"{url} timed out: no data for {self.timeout_s:g} s") from None
                    continue
                if kind == "error":
                    raise self._transport_error(value, url, "read") from value
                yield kind, value
                if kind in ("end", "body"):
                    return
                deadline = time.monotonic() + self.timeout_s + 5.0
        finally:
            with suppress(OSError):  # already closed when the response ended
                sock.shutdown(socket.SHUT_RDWR)  # unblocks the reader if it is still waiting on the server
            reader.join(READER_JOIN_S)
            conn.close()

    def _send(self, method: str, url: str, payload: dict[str, Any] | None) -> tuple[http.client.HTTPConnection, socket.socket]:
        """Connect (within connect_timeout_s) and send the request; reads then time out after timeout_s."""
        parts = urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=self.connect_timeout_s)
        headers = {"Accept": "text/event-stream, application/json", "User-Agent": "desktop_rag"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = json.dumps(payload).encode("utf-8") if payload is not None else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        phase = "connect"
        try:
            conn.connect()
            sock = conn.sock
            sock.settimeout(self.timeout_s)
            phase = "send"
            conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            conn.close()
            raise self._transport_error(exc, url, phase) from exc
        log.info("%s %s (model %r)", method, url, self.model)
        return conn, sock

    def _api_key(self) -> str:
        return os.environ.get(self.api_key_env, "").strip() if self.api_key_env else ""

    def _transport_error(self, exc: BaseException, url: str, phase: str) -> RemoteModelError:
        host = urlsplit(url).hostname
        if isinstance(exc, ConnectionRefusedError):
            return RemoteModelError(f"could not connect to {url}: connection refused (is the server running?)")
        if isinstance(exc, socket.gaierror):
            return RemoteModelError(f"could not connect to {url}: the host name {host!r} could not be resolved")
        if isinstance(exc, TimeoutError) and phase == "connect":
            return RemoteModelError(f"could not connect to {url}: timed out after {self.connect_timeout_s:g} s")
        if isinstance(exc, TimeoutError):
            return RemoteModelError(f"{url} timed out: no data for {self.timeout_s:g} s")
        if isinstance(exc, ssl.SSLError):
            return RemoteModelError(f"TLS error talking to {url}: {exc}")
        if isinstance(exc, http.client.HTTPException):
            return RemoteModelError(f"{url} closed the connection or sent an invalid response ({type(exc).__name__})")
        if isinstance(exc, OSError):
            return RemoteModelError(f"network error talking to {url}: {exc.strerror or exc}")
        return RemoteModelError(f"cannot talk to {url}: {exc}")

    def _content(self, event: Any, url: str, field: str) -> str:
        """Text of the first choice of a chunk (``delta``) or completion (``message``); '' when it has none."""
        if isinstance(event, dict) and "error" in event:
            raise RemoteModelError(f"{url} reported an error: {self._redact(_server_message(event))}")
        if not isinstance(event, dict) or not isinstance(event.get("choices"), list):
            raise RemoteModelError(f"{url} sent an unexpected object instead of a chat completion: {str(event)[:80]!r}")
        choices = event["choices"]  # empty in usage-only chunks
        part = choices[0].get(field) if choices and isinstance(choices[0], dict) else None
        content = part.get("content") if isinstance(part, dict) else None
        return content if isinstance(content, str) else ""

    def _http_error(self, status: int, reason: str, body: bytes, url: str) -> RemoteModelError:
        detail = self._redact(_server_message(body))
        message = f"{url} answered HTTP {status} {reason}".rstrip() + (f": {detail}" if detail else "")
        if status in (401, 403):
            state = "is set" if self._api_key() else "is not set"
            message += f" (check the API key in the environment variable {self.api_key_env}, which {state})"
        elif status == 404:
            message += " (check the server URL, which usually ends in /v1, and the model name)"
        return RemoteModelError(message)

    def _redact(self, text: str) -> str:
        key = self._api_key()
        return text.replace(key, "***") if key else text


def _read_response(conn: http.client.HTTPConnection, events: queue.Queue) -> None:
    """Helper thread: status and headers, then the body as lines (or whole, for errors and JSON)."""
    resp = None
    try:
        resp = conn.getresponse()
        if resp.status >= 400 or "json" in (resp.getheader("Content-Type") or ""):
            events.put(("body", (resp.status, resp.reason, resp.read(MAX_BODY_BYTES))))
            return
        while line := resp.readline(MAX_LINE_BYTES):
            events.put(("line", line))
        events.put(("end", None))
    except Exception as exc:  # noqa: BLE001 - handed to the calling thread, which maps it
        events.put(("error", exc))
    finally:
        if resp is not None:
            resp.close()


def _parse_json(raw: bytes | str, url: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        raise RemoteModelError(f"{url} sent malformed JSON: {text[:80]!r}") from exc


def _server_message(body: bytes | dict[str, Any]) -> str:
    """The human part of an error body: OpenAI ``error.message``, FastAPI ``detail``, or the text."""
    text = body.decode("utf-8", errors="replace").strip() if isinstance(body, bytes) else ""
    try:
        data = json.loads(text) if text else body
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        for found in (data.get("error"), data.get("detail"), data.get("message")):
            if isinstance(found, dict):
                found = found.get("message") or found.get("msg")
            if found:
                return str(found)[:300]
    return text[:300]
