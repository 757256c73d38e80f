"""A loopback HTTP server answering the Hub endpoints snapshot_download uses.

`GET /api/{models,datasets}/ORG/NAME/revision/REV` (repo info with the commit sha), `GET
.../tree/COMMIT` (the recursive file listing) and `HEAD`/`GET /ORG/NAME/resolve/COMMIT/PATH` (file
metadata and bytes), with the headers huggingface_hub reads (`X-Repo-Commit`, `ETag`,
`X-Error-Code`). Errors are answered the way the Hub answers them, so the library raises its own
exception types; `fail_next` serves 503s first to exercise retries.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .hubcache import git_blob_id

API = re.compile(r"^/api/(models|datasets)/([^/]+/[^/]+)/(revision|tree)/([^/?]+)")
RESOLVE = re.compile(r"^/(?:datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
MESSAGES = {
    "RepoNotFound": "Repository not found",
    "GatedRepo": "Access to this model is restricted",
    "RevisionNotFound": "Invalid rev id",
}


class FakeHub:
    def __init__(self, repo_id: str, files: dict[str, bytes]) -> None:
        self.repo_id = repo_id
        self.files = files
        self.commit = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
        self.requests: list[tuple[str, str]] = []  # (path, Authorization header)
        self.error: tuple[int, str] | None = None  # (status, X-Error-Code) for every request
        self._faults_left = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._faults_left = count

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _planned_error(self, path: str, authorization: str) -> tuple[int, str] | None:
        with self._lock:
            self.requests.append((path, authorization))
            if self._faults_left > 0:
                self._faults_left -= 1
                return (503, "")
        return self.error

    def tree(self) -> list[dict]:
        return [
            {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": name}
            for name, data in sorted(self.files.items())
        ]


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, payload: object) -> None:
            self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            api, resolve = API.match(path), RESOLVE.match(path)
            if not (api and api.group(2) == hub.repo_id) and not (
                resolve and resolve.group(1) == hub.repo_id
            ):
                # Other endpoints the client may probe are not part of the download.
                self._send(404, b'{"error": "Not found"}', {"Content-Type": "application/json"})
                return
            planned = hub._planned_error(self.path, self.headers.get("Authorization", ""))
            if planned is not None:
                status, code = planned
                message = MESSAGES.get(code, "")
                headers = {"Content-Type": "application/json"}
                if code:
                    headers |= {"X-Error-Code": code, "X-Error-Message": message}
                self._send(status, json.dumps({"error": message}).encode(), headers)
            elif api and api.group(3) == "revision":
                siblings = [{"rfilename": name} for name in sorted(hub.files)]
                self._json({"id": hub.repo_id, "sha": hub.commit, "siblings": siblings})
            elif api:
                self._json(hub.tree())
            elif resolve and resolve.group(3) in hub.files:
                data = hub.files[resolve.group(3)]
                headers = {"X-Repo-Commit": hub.commit, "ETag": f'"{git_blob_id(data)}"'}
                self._send(200, data, headers | {"Content-Type": "application/octet-stream"})
            else:
                self._send(404, b'{"error": "Entry not found"}', {"X-Error-Code": "EntryNotFound"})

        do_GET = do_HEAD = _answer

    return Handler
