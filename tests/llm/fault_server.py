"""A scripted OpenAI-compatible HTTP server on loopback that misbehaves on purpose.

Each POST takes the next :class:`Reply` of the script (a bounded list; past its end every request
gets a 599 and is counted in ``server.overrun``), so a test says exactly what the provider does on
each attempt: a 429 with ``Retry-After``, a 500/503, a reply slower than the client's timeout, a
body cut short, a body that is not JSON, JSON that is not a chat completion, no choices, a refusal,
or a good completion. Every request is recorded with its arrival time (``time.monotonic``), so a
test can assert the waits between attempts without sleeping longer than needed.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FaultServer", "Received", "Reply", "completion", "ollama_chat"]


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # wait this long before answering (a timeout, when over the client's)
    truncate: bool = False  # announce the whole body, send half of it, close the connection

    @classmethod
    def json(cls, value: Any, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status=status, body=json.dumps(value).encode(), **kwargs)


def completion(
    content: str | None,
    *,
    model: str = "fake",
    refusal: str | None = None,
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """An OpenAI chat completion body whose one choice says ``content``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def ollama_chat(content: str, *, model: str = "fake") -> dict[str, Any]:
    """An Ollama ``/api/chat`` body (non-streaming) whose message says ``content``."""
    return {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": content},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 13,
        "eval_count": 9,
    }


@dataclass(frozen=True)
class Received:
    """One request the server got."""

    at: float
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FaultServer:
    """``with FaultServer([Reply(...), ...]) as server:`` → ``server.base_url`` (…/v1)."""

    script: list[Reply]
    received: list[Received] = field(default_factory=list)
    overrun: int = 0
    _queue: deque[Reply] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def push(self, *replies: Reply) -> None:
        """Add replies to the end of the script (e.g. the provider comes back)."""
        with self._lock:
            self._queue.extend(replies)

    def _next(self) -> Reply | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def __enter__(self) -> FaultServer:
        self._queue = deque(self.script)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode(errors="replace")
                with owner._lock:
                    owner.received.append(
                        Received(time.monotonic(), self.path, dict(self.headers), body)
                    )
                reply = owner._next()
                if reply is None:
                    with owner._lock:
                        owner.overrun += 1
                    reply = Reply.json({"error": {"message": "script exhausted"}}, status=599)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    headers = dict(reply.headers)
                    headers.setdefault("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    if reply.truncate:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.truncate:
                        self.wfile.write(reply.body[: len(reply.body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests, in order."""
        times = [r.at for r in self.received]
        return [b - a for a, b in itertools.pairwise(times)]
