"""A local HTTP server on 127.0.0.1 that replays scripted responses, for offline tests.

Only loopback is ever used. Each route maps a path to a queue of :class:`Reply`;
the last reply of a queue repeats. Requests are recorded so tests can assert what
the client asked for (query parameters, method, form body).

Example
-------
>>> server.route("/v1/archive", Reply(429, {"error": True, "reason": "Minutely API request limit exceeded"},
...                                   headers={"Retry-After": "1"}), Reply(200, body))
>>> server.url("/v1/archive")
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted response.

    ``body`` may be bytes, str, or any JSON-serialisable object (sent as JSON).
    ``delay_s`` sleeps before answering (to trigger client time-outs).
    ``truncate_to`` sends a Content-Length for the full body but only that many bytes,
    then closes the connection (a truncated download).

    Hostile behaviours (tests/test_hostile_server.py):
    ``drip_s`` sends the body one byte at a time with that pause between bytes;
    ``drip_headers_s`` does the same for the status line and headers;
    ``repeat`` sends the body that many times over (a huge body without building it
    in memory); ``content_length`` False sends no Content-Length (the body ends when
    the connection closes), an int sends that value instead of the true length.
    """

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    truncate_to: int | None = None
    drip_s: float = 0.0
    drip_headers_s: float = 0.0
    repeat: int = 1
    content_length: bool | int = True

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/html; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]


class LocalServer:
    """Scripted HTTP server bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # silence
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (deadline, cap): expected in hostile tests

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.requests.append(
                        Request(
                            self.command,
                            parts.path,
                            parse_qs(parts.query),
                            body,
                            dict(self.headers),
                        )
                    )
                    queue = server.routes.get(parts.path)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
                if reply is None:
                    reply = Reply(404, {"error": True, "reason": f"no route {parts.path}"})
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data, ctype = reply.payload()
                try:
                    self._send(reply, data, ctype)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send(self, reply: Reply, data: bytes, ctype: str) -> None:
                total = len(data) * reply.repeat
                headers = {"Content-Type": ctype, **reply.headers}
                if reply.content_length is True:
                    headers["Content-Length"] = str(total)
                elif reply.content_length is not False:
                    headers["Content-Length"] = str(reply.content_length)
                closes = (
                    reply.truncate_to is not None
                    or reply.content_length is not True
                    or reply.drip_s > 0
                    or reply.repeat > 1
                )
                if closes:
                    headers["Connection"] = "close"
                    self.close_connection = True
                head = f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
                raw = head.encode("latin-1")
                if reply.drip_headers_s:
                    for i in range(len(raw)):
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip_headers_s)
                else:
                    self.wfile.write(raw)
                if reply.truncate_to is not None:
                    self.wfile.write(data[: reply.truncate_to])
                elif reply.drip_s:
                    for _ in range(reply.repeat):
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip_s)
                else:
                    for _ in range(reply.repeat):
                        self.wfile.write(data)
                self.wfile.flush()

            do_GET = _handle
            do_POST = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, *replies: Reply) -> None:
        """Script the replies for ``path`` (the last one repeats)."""
        with self._lock:
            self.routes[path] = list(replies)

    def reset(self) -> None:
        """Forget all routes and recorded requests."""
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
