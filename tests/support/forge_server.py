"""GitHub and GitLab pull-request APIs on loopback, recording every request.

Enough of each REST API for the results job: list open PRs/MRs by head branch, create (with the
real "already exists" answers: 422 on GitHub, 409 on GitLab), update, labels. `fail_next`
scripts transient failures (500s, 429 with Retry-After) in front of the real answers.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.loopback import LoopbackServer

TOKEN = "forge-test-token"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0  # the answer's status code


@dataclass
class ForgeState:
    kind: str  # "github" or "gitlab"
    repo: str
    prs: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    # Another job opens the PR right after our next lookup: the lookup finds nothing, the
    # create that follows meets "already exists".
    race_after_next_lookup: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.extend([(status, headers or {})] * count)

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method]

    def open_prs(self) -> list[dict[str, Any]]:
        state = "open" if self.kind == "github" else "opened"
        return [pr for pr in self.prs.values() if pr["state"] == state]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ForgeState

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.state.requests[-1].status = code
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.requests.append(
                Recorded(self.command, url.path, query, body, dict(self.headers.items()))
            )
            failure = self.state.failures.popleft() if self.state.failures else None
            if failure:
                return self._send(failure[0], {"message": "scripted failure"}, failure[1])
            if self.state.kind == "github":
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"message": "Bad credentials"})
                return self._github(url.path, query, body)
            if self.headers.get("PRIVATE-TOKEN") != TOKEN:
                return self._send(401, {"message": "401 Unauthorized"})
            return self._gitlab(url.path, query, body)

    do_GET = do_POST = do_PATCH = do_PUT = _handle

    def _github(self, path: str, query: dict[str, str], body: Any) -> None:
        s = self.state
        root = f"/repos/{s.repo}"
        owner = s.repo.split("/")[0]
        if path == f"{root}/pulls" and self.command == "GET":
            head = query.get("head", "")
            found = [p for p in s.open_prs() if f"{owner}:{p['head']['ref']}" == head]
            self._send(200, found)
            if s.race_after_next_lookup:
                s.race_after_next_lookup = False
                self._create_github(
                    {
                        "title": "opened by another job",
                        "body": "",
                        "head": head.split(":", 1)[1],
                        "base": "main",
                    }
                )
            return None
        if path == f"{root}/pulls" and self.command == "POST":
            if any(p["head"]["ref"] == body["head"] for p in s.open_prs()):
                message = f"A pull request already exists for {owner}:{body['head']}."
                return self._send(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {"resource": "PullRequest", "code": "custom", "message": message}
                        ],
                    },
                )
            return self._send(201, self._create_github(body))
        if path.startswith(f"{root}/pulls/") and self.command == "PATCH":
            pr = s.prs[int(path.rsplit("/", 1)[1])]
            pr.update({k: body[k] for k in ("title", "body") if k in body})
            return self._send(200, pr)
        if path.startswith(f"{root}/issues/") and path.endswith("/labels"):
            pr = s.prs[int(path.split("/")[-2])]
            for name in body["labels"]:
                if name not in [label["name"] for label in pr["labels"]]:
                    pr["labels"].append({"name": name, "color": "ededed"})
            return self._send(200, pr["labels"])
        return self._send(404, {"message": "Not Found"})

    def _create_github(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        number = len(s.prs) + 1
        s.prs[number] = {
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body["body"],
            "html_url": f"https://github.example/{s.repo}/pull/{number}",
            "head": {"ref": body["head"]},
            "base": {"ref": body["base"]},
            "labels": [],
        }
        return s.prs[number]

    def _gitlab(self, path: str, query: dict[str, str], body: Any) -> None:
        s = self.state
        prefix = "/api/v4/projects/"
        if not path.startswith(prefix):
            return self._send(404, {"message": "404 Not Found"})
        project, _, rest = path[len(prefix) :].partition("/")
        if unquote(project) != s.repo or "/" in project:  # the path must arrive URL-encoded
            return self._send(404, {"message": "404 Project Not Found"})
        if rest == "merge_requests" and self.command == "GET":
            found = [p for p in s.open_prs() if p["source_branch"] == query.get("source_branch")]
            self._send(200, found)
            if s.race_after_next_lookup:
                s.race_after_next_lookup = False
                self._create_gitlab(
                    {
                        "title": "opened by another job",
                        "description": "",
                        "source_branch": query["source_branch"],
                        "target_branch": "main",
                    }
                )
            return None
        if rest == "merge_requests" and self.command == "POST":
            existing = [p for p in s.open_prs() if p["source_branch"] == body["source_branch"]]
            if existing:
                message = (
                    "Another open merge request already exists for this source branch: "
                    f"!{existing[0]['iid']}"
                )
                return self._send(409, {"message": [message]})
            return self._send(201, self._create_gitlab(body))
        if rest.startswith("merge_requests/") and self.command == "PUT":
            mr = s.prs[int(rest.rsplit("/", 1)[1])]
            mr.update({k: body[k] for k in ("title", "description") if k in body})
            for name in (body.get("add_labels") or "").split(","):
                if name and name not in mr["labels"]:
                    mr["labels"].append(name)
            return self._send(200, mr)
        return self._send(404, {"message": "404 Not Found"})

    def _create_gitlab(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        iid = len(s.prs) + 1
        s.prs[iid] = {
            "iid": iid,
            "state": "opened",
            "title": body["title"],
            "description": body["description"],
            "source_branch": body["source_branch"],
            "target_branch": body["target_branch"],
            "labels": [x for x in body.get("labels", "").split(",") if x],
            "web_url": f"https://gitlab.example/{s.repo}/-/merge_requests/{iid}",
        }
        return s.prs[iid]


class ForgeServer(LoopbackServer):
    def __init__(self, kind: str, repo: str) -> None:
        self.state = ForgeState(kind=kind, repo=repo)
        super().__init__(type("Handler", (_Handler,), {"state": self.state}))
        self.api_url = self.root if kind == "github" else f"{self.root}/api/v4"
