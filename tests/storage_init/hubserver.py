"""A loopback HTTP server answering the Hub endpoints huggingface_hub and `hpo pin` use.

`GET /api/{models,datasets}/REPO/revision/REV` (repo info with the commit sha), `GET
.../tree/COMMIT` (the recursive file listing) and `HEAD`/`GET [datasets/]REPO/resolve/COMMIT/PATH`
(file metadata and bytes, byte ranges included), with the headers huggingface_hub reads
(`X-Repo-Commit`, `ETag`, `X-Error-Code`). Errors are answered the way the Hub answers them, so
the library raises its own exception types: an unknown revision is a 404 `RevisionNotFound`,
`error` (every request) or `errors[repo]` (one repo, e.g. a gated one) plan others, and
`fail_next` serves 503s first to exercise retries. Several repos can be served at once, and
`publish` moves a branch to a new commit while the old commit stays readable.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from .hubcache import git_blob_id

API = re.compile(r"^/api/(models|datasets)/(.+?)/(revision|tree)/([^/?]+)")
RESOLVE = re.compile(r"^/(datasets/)?(.+?)/resolve/([^/]+)/(.+)$")
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
MESSAGES = {
    "RepoNotFound": "Repository not found",
    "GatedRepo": "Access to this model is restricted",
    "RevisionNotFound": "Invalid rev id",
}


def commit_of(files: dict[str, bytes]) -> str:
    return hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()


@dataclass
class Repo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit -> files
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag -> commit

    def resolve(self, revision: str) -> str | None:
        revision = unquote(revision)
        if revision in self.refs:
            return self.refs[revision]
        return revision if revision in self.commits else None


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    range: str  # the Range header, "" when none


class FakeHub:
    def __init__(self, repo_id: str, files: dict[str, bytes], repo_type: str = "model") -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.repo_id = repo_id
        self.requests: list[tuple[str, str]] = []  # (path, Authorization header)
        self.calls: list[Call] = []
        self.error: tuple[int, str] | None = None  # (status, X-Error-Code) for every request
        self.errors: dict[str, tuple[int, str]] = {}  # the same, for one repo only
        self.bytes_served = 0
        self._faults_left = 0
        self._lock = threading.Lock()
        self.add(repo_id, files, repo_type)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(
        self,
        repo_id: str,
        files: dict[str, bytes],
        repo_type: str = "model",
        refs: tuple[str, ...] = ("main",),
    ) -> str:
        """Serve one more repo (or commit): `refs` point at its commit."""
        repo = self.repos.setdefault((repo_type, repo_id), Repo())
        commit = commit_of(files)
        repo.commits[commit] = dict(files)
        repo.refs.update({ref: commit for ref in refs})
        return commit

    def publish(self, files: dict[str, bytes], repo_id: str | None = None) -> str:
        """A new commit on main of the repo (default: the first one served); old ones stay."""
        repo_id = repo_id or self.repo_id
        repo_type = next(t for t, r in self.repos if r == repo_id)
        return self.add(repo_id, files, repo_type)

    def commit_of(self, repo_id: str | None = None, ref: str = "main") -> str:
        repo_id = repo_id or self.repo_id
        return next(repo.refs[ref] for (_, r), repo in self.repos.items() if r == repo_id)

    @property
    def commit(self) -> str:
        return self.commit_of()

    @property
    def files(self) -> dict[str, bytes]:
        [repo] = [r for (_, rid), r in self.repos.items() if rid == self.repo_id]
        return repo.commits[repo.refs["main"]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._faults_left = count

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fetched(self, suffix: str = "") -> list[str]:
        """Paths of the files whose bytes were read (whole or a range), in request order."""
        found = []
        for call in self.calls:
            match = RESOLVE.match(call.path.split("?", 1)[0])
            if call.method == "GET" and match and match.group(4).endswith(suffix):
                found.append(match.group(4) + (f" {call.range}" if call.range else ""))
        return found

    def _planned_error(self, method: str, path: str, headers) -> tuple[int, str] | None:
        with self._lock:
            self.requests.append((path, headers.get("Authorization", "")))
            self.calls.append(Call(method, path, headers.get("Range", "")))
            if self._faults_left > 0:
                self._faults_left -= 1
                return (503, "")
        return self.error

    def _serve(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get((repo_type, repo_id))


def _tree(files: dict[str, bytes]) -> list[dict]:
    return [
        {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": name}
        for name, data in sorted(files.items())
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
                with hub._lock:
                    hub.bytes_served += len(body)

        def _json(self, payload: object) -> None:
            self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})

        def _error(self, status: int, code: str) -> None:
            message = MESSAGES.get(code, "")
            headers = {"Content-Type": "application/json"}
            if code:
                headers |= {"X-Error-Code": code, "X-Error-Message": message}
            self._send(status, json.dumps({"error": message}).encode(), headers)

        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            api, resolve = API.match(path), RESOLVE.match(path)
            if api:
                repo_type, repo_id = api.group(1)[:-1], api.group(2)
            elif resolve:
                repo_type = "dataset" if resolve.group(1) else "model"
                repo_id = resolve.group(2)
            repo = hub._serve(repo_type, repo_id) if api or resolve else None
            if repo is None:
                # Other endpoints the client may probe are not part of the download.
                self._send(404, b'{"error": "Not found"}', {"Content-Type": "application/json"})
                return
            planned = hub._planned_error(self.command, self.path, self.headers)
            planned = planned or hub.errors.get(repo_id)
            if planned is not None:
                self._error(*planned)
                return
            commit = repo.resolve((api or resolve).group(4 if api else 3))
            if commit is None:
                self._error(404, "RevisionNotFound")
            elif api and api.group(3) == "revision":
                siblings = [{"rfilename": name} for name in sorted(repo.commits[commit])]
                self._json({"id": repo_id, "sha": commit, "siblings": siblings})
            elif api:
                self._json(_tree(repo.commits[commit]))
            elif resolve.group(4) in repo.commits[commit]:
                self._file(repo.commits[commit][resolve.group(4)], commit)
            else:
                self._send(404, b'{"error": "Entry not found"}', {"X-Error-Code": "EntryNotFound"})

        def _file(self, data: bytes, commit: str) -> None:
            headers = {
                "X-Repo-Commit": commit,
                "ETag": f'"{git_blob_id(data)}"',
                "Content-Type": "application/octet-stream",
                "Accept-Ranges": "bytes",
            }
            wanted = RANGE.match(self.headers.get("Range", ""))
            if wanted is None:
                self._send(200, data, headers)
                return
            start = int(wanted.group(1))
            end = min(int(wanted.group(2)) + 1 if wanted.group(2) else len(data), len(data))
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
            self._send(206, data[start:end], headers)

        do_GET = do_HEAD = _answer

    return Handler
