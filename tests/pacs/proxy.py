"""A small HTTP proxy in front of Orthanc that injects the faults of something outside the
product: a reply cut after N bytes, a 500, or no answer at all (until released)."""

from __future__ import annotations

import http.client
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

# A WADO-RS retrieve of a whole series: .../studies/{uid}/series/{uid}
SERIES_RETRIEVE = re.compile(r"/studies/[0-9.]+/series/[0-9.]+$")


@dataclass
class Faults:
    cut_after_bytes: int | None = None  # cut series retrieves after this many body bytes
    cut_retrieves: set[int] = field(default_factory=set)  # which ones (1-based), all if empty
    fail_with: int | None = None  # answer series retrieves with this status
    hang: bool = False  # hold every request until released
    retrieves: list[str] = field(default_factory=list)  # series retrieves seen, in order
    released: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        faults = self.server.faults
        if faults.hang:
            faults.released.wait(timeout=60)
            self.close_connection = True
            return
        path = urlparse(self.path).path
        retrieve = bool(SERIES_RETRIEVE.search(path))
        if retrieve:
            faults.retrieves.append(path)
        if retrieve and faults.fail_with is not None:
            body = b'{"error": "injected"}'
            self.send_response(faults.fail_with)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        status, headers, body = self._upstream()
        cut = (
            retrieve
            and faults.cut_after_bytes is not None
            and (not faults.cut_retrieves or len(faults.retrieves) in faults.cut_retrieves)
        )
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in {"transfer-encoding", "content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cut and faults.cut_after_bytes is not None:
            self.wfile.write(body[: faults.cut_after_bytes])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def _upstream(self) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urlparse(self.server.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        try:
            forward = {
                k: v for k, v in self.headers.items() if k.lower() in {"authorization", "accept"}
            }
            conn.request("GET", self.path, headers=forward)
            reply = conn.getresponse()
            return reply.status, reply.getheaders(), reply.read()
        finally:
            conn.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, faults: Faults) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.faults = faults


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.faults = Faults()
        self._server = _Server(upstream, self.faults)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.faults.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
