"""A Kubernetes API server on loopback for experiments.kubeflow.org, as pykube talks to it.

GET of one Experiment, and `?watch=true` streams of newline-delimited JSON events (chunked),
each watch connection playing the next scripted list of events, then ending the stream the way
a server does when `timeoutSeconds` runs out. In a script, ("MISSED", obj) changes the object
without an event (what a client misses while its resourceVersion expires), ("ERROR", status)
sends a Status event as is, ("STALL", seconds) sends nothing for that long, ("DROP", None)
hangs up in the middle of a chunk as a proxy does, and a script of GONE answers the watch itself
with HTTP 410.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/apis/kubeflow.org/v1beta1/namespaces/"
GONE = "gone"  # a watch script: the watch request itself is answered 410 Gone


def expired(version: int) -> dict:
    """The Status a Kubernetes API server sends for a resourceVersion it no longer keeps."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {version} ({version + 100})",
        "reason": "Expired",
        "code": 410,
    }


def experiment(name: str, version: int, *conditions: tuple[str, str], message: str = "") -> dict:
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": "kubeflow", "resourceVersion": str(version)},
        "status": {
            "conditions": [
                {"type": kind, "status": status, "reason": f"Experiment{kind}", "message": message}
                for kind, status in conditions
            ]
        },
    }


@dataclass
class KubeApi:
    experiments: dict[tuple[str, str], dict] = field(default_factory=dict)
    watch_scripts: deque[list[tuple[str, Any]] | str] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)


def _handler(api: KubeApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            api.requests.append(self.path)
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if not url.path.startswith(PREFIX):
                self._send(404, {"kind": "Status", "code": 404, "message": "no such path"})
                return
            namespace, _, rest = url.path[len(PREFIX) :].partition("/")
            if query.get("watch") == ["true"]:
                self._watch()
                return
            name = rest.removeprefix("experiments/")
            obj = api.experiments.get((namespace, name))
            if obj is None:
                message = f'experiments.kubeflow.org "{name}" not found'
                self._send(404, {"kind": "Status", "code": 404, "message": message})
            else:
                self._send(200, obj)

        def _watch(self) -> None:
            script = api.watch_scripts.popleft() if api.watch_scripts else []
            if script == GONE:
                self._send(410, expired(0) | {"reason": "Gone"})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for kind, obj in script:
                if kind == "STALL":
                    time.sleep(obj)
                    continue
                if kind == "DROP":
                    self.wfile.write(b'400\r\n{"type": "MODIF')
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if kind != "ERROR":
                    meta = obj["metadata"]
                    api.experiments[(meta["namespace"], meta["name"])] = obj
                if kind == "MISSED":
                    continue
                self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
            self._chunk(b"")  # the stream ends, as at the end of timeoutSeconds

    return Handler


class KubeServer:
    def __init__(self) -> None:
        self.api = KubeApi()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.api))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def write_kubeconfig(self, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "local", "cluster": {"server": self.url}}],
            "users": [{"name": "me", "user": {"token": "not-a-real-token"}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "me"}}],
            "current-context": "local",
        }
        path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        return path

    def __enter__(self) -> KubeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
