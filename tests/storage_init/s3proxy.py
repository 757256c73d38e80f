"""A loopback HTTP proxy in front of the moto server that counts requests and injects faults.

boto3 talks to it exactly as to S3 (same wire format, the proxy forwards bytes unchanged), which
lets tests assert how many requests a fetch made, answer the first N with 503 SlowDown, or hold
object downloads until a test releases them.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class S3Proxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests: list[tuple[str, str]] = []
        self.faults_served = 0
        self._faults_left = 0
        self._passes_left = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults_served = 0
            self._faults_left = 0
            self._passes_left = 0
        self._released.set()

    def fail_next(self, count: int, after: int = 0) -> None:
        """Let `after` requests through, then answer `count` with 503 SlowDown."""
        with self._lock:
            self._passes_left = after
            self._faults_left = count

    def hold_downloads(self) -> None:
        """Make object GETs wait until `release_downloads` (listings still pass)."""
        self._released.clear()

    def release_downloads(self) -> None:
        self._released.set()

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self._lock:
            return sum(
                1
                for seen_method, path in self.requests
                if (method is None or seen_method == method) and contains in path
            )

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def _take_fault(self, method: str, path: str) -> bool:
        with self._lock:
            self.requests.append((method, path))
            if self._passes_left > 0:
                self._passes_left -= 1
                return False
            if self._faults_left > 0:
                self._faults_left -= 1
                self.faults_served += 1
                return True
            return False


def _handler_for(proxy: S3Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if proxy._take_fault(self.command, self.path):
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOW_DOWN)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(SLOW_DOWN)
                return
            if self.command == "GET" and "list-type" not in self.path:
                proxy._released.wait(timeout=60)
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                if self.command == "HEAD":
                    self.send_header("Content-Length", response.getheader("Content-Length", "0"))
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay

    return Handler
