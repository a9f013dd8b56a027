"""A local HTTP server on 127.0.0.1 replaying recorded provider responses, with scripted faults.

For connector tests (ours and third-party ones): ``ReplayServer(route).serve()`` starts it in a
daemon thread; ``faults`` are answered first, one per request (429 storms, 500s, slow or
truncated bodies); every request is recorded in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlparse


@dataclass
class Reply:
    """One scripted answer: status and raw body bytes, optionally after a delay."""

    status: int = 200
    body: bytes = b""
    delay_seconds: float = 0.0

    @classmethod
    def json(cls, obj, status: int = 200) -> "Reply":
        return cls(status, json.dumps(obj, ensure_ascii=False).encode())


@dataclass
class ReplayServer:
    """Serves ``route(path, query) -> Reply``; ``faults`` are consumed first, one per request."""

    route: Callable[[str, dict[str, str]], Reply]
    faults: list[Reply] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def serve(self):
        server_ref = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                server_ref.requests.append((parsed.path, query, dict(self.headers)))
                reply = server_ref.faults.pop(0) if server_ref.faults else server_ref.route(parsed.path, query)
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):  # keep test output quiet
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return httpd
