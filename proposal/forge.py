"""Pull requests on GitHub and merge requests on GitLab, through their REST APIs.

`open_or_update` is the one operation the job needs: find the open PR for the results branch and
update it, or create one; a create that races another job ("already exists", 422 on GitHub, 409
on GitLab) falls back to finding and updating. Transient answers (5xx, 429, a rate-limit 403)
are retried with exponential backoff that honours Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

from proposal.errors import ForgeAuthError, ForgeError, ForgeRetriesExhausted

DEFAULT_API_URLS = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}


@dataclass(frozen=True)
class PullRequest:
    number: int  # GitHub's number, GitLab's iid
    url: str
    title: str
    body: str
    labels: tuple[str, ...]


class AlreadyExists(ForgeError):
    """The forge refused to create a PR because one is open for the branch."""


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if unreadable."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError, OverflowError):
        return None


def _epoch_in_s(value: str | None) -> float | None:
    try:
        return float(value) - time.time() if value else None
    except ValueError:
        return None


class ForgeHTTP:
    """JSON over HTTP with retries; every failure becomes a named ForgeError."""

    def __init__(
        self,
        api_url: str,
        headers: Mapping[str, str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_wait_s: float = 120.0,
        timeout_s: float = 30.0,
    ) -> None:
        import requests

        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s

    def _wait_for(self, response: Any, attempt: int) -> float:
        headers = response.headers if response is not None else {}
        seconds = _retry_after_s(headers.get("Retry-After"))
        if seconds is None:
            # GitHub's primary rate limit: a 403 with the epoch second the quota resets at.
            seconds = _epoch_in_s(headers.get("X-RateLimit-Reset"))
        if seconds is None:  # absent or unreadable: plain exponential backoff
            seconds = self.backoff_s * 2**attempt
        return min(self.max_wait_s, max(0.0, seconds))

    @staticmethod
    def _transient(response: Any) -> bool:
        if response.status_code >= 500 or response.status_code == 429:
            return True
        # GitHub's secondary rate limit is a 403 that says when to come back.
        return response.status_code == 403 and (
            "Retry-After" in response.headers
            or response.headers.get("X-RateLimit-Remaining") == "0"
        )

    @staticmethod
    def _message(response: Any) -> str:
        try:
            payload = response.json()
        except ValueError:
            return response.text.strip()[:200] or response.reason
        if isinstance(payload, Mapping):
            message = payload.get("message") or payload.get("error") or ""
            if isinstance(message, list):  # GitLab sends a list of messages on conflicts
                message = "; ".join(str(m) for m in message)
            errors = payload.get("errors") or []
            details = [e.get("message", "") if isinstance(e, Mapping) else str(e) for e in errors]
            return "; ".join(str(m) for m in [message, *details] if m) or str(payload)[:200]
        return str(payload)[:200]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        import requests

        where = f"{method} {self.api_url}{path}"
        last = ""
        for attempt in range(self.max_attempts):
            try:
                response = self.session.request(
                    method, self.api_url + path, params=params, json=json, timeout=self.timeout_s
                )
            except (requests.ConnectionError, requests.Timeout) as e:
                last = f"{type(e).__name__}"
                response = None
            if response is not None and not self._transient(response):
                break
            if response is not None:
                last = f"HTTP {response.status_code}: {self._message(response)}"
            if attempt + 1 < self.max_attempts:
                self.sleep(self._wait_for(response, attempt))
        else:
            raise ForgeRetriesExhausted(
                f"{where}: gave up after {self.max_attempts} tries ({last})"
            )
        if response.status_code in (401, 403):
            raise ForgeAuthError(
                f"{where}: HTTP {response.status_code}: {self._message(response)} "
                "(check the token in HPO_FORGE_TOKEN and its scopes)"
            )
        if response.status_code in (409, 422) and "already exists" in self._message(response):
            raise AlreadyExists(f"{where}: {self._message(response)}")
        if not response.ok:
            raise ForgeError(f"{where}: HTTP {response.status_code}: {self._message(response)}")
        try:
            return response.json() if response.content else None
        except ValueError as e:  # a proxy's HTML page, not the API
            raise ForgeError(f"{where}: HTTP {response.status_code} but not JSON") from e


class Forge(Protocol):
    def find_open(self, branch: str) -> PullRequest | None: ...
    def create(
        self, branch: str, base: str, title: str, body: str, labels: Iterable[str]
    ) -> PullRequest: ...
    def update(
        self, pr: PullRequest, title: str, body: str, labels: Iterable[str]
    ) -> PullRequest: ...


class GitHub:
    def __init__(self, http: ForgeHTTP, repo: str) -> None:
        self.http = http
        self.owner, _, self.name = repo.partition("/")
        self.base_path = f"/repos/{quote(self.owner)}/{quote(self.name)}"

    @staticmethod
    def _parse(data: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            number=data["number"],
            url=data.get("html_url", ""),
            title=data.get("title") or "",
            body=data.get("body") or "",
            labels=tuple(label["name"] for label in data.get("labels") or []),
        )

    def find_open(self, branch: str) -> PullRequest | None:
        params = {"head": f"{self.owner}:{branch}", "state": "open"}
        found = self.http.request("GET", f"{self.base_path}/pulls", params=params)
        return self._parse(found[0]) if found else None

    def _label(self, pr: PullRequest, labels: Iterable[str]) -> PullRequest:
        missing = [label for label in labels if label not in pr.labels]
        if not missing:
            return pr
        path = f"{self.base_path}/issues/{pr.number}/labels"
        added = self.http.request("POST", path, json={"labels": missing})
        names = tuple(label["name"] for label in added or [])
        return PullRequest(pr.number, pr.url, pr.title, pr.body, names or (*pr.labels, *missing))

    def create(
        self, branch: str, base: str, title: str, body: str, labels: Iterable[str]
    ) -> PullRequest:
        payload = {"title": title, "head": branch, "base": base, "body": body}
        pr = self._parse(self.http.request("POST", f"{self.base_path}/pulls", json=payload))
        return self._label(pr, labels)

    def update(self, pr: PullRequest, title: str, body: str, labels: Iterable[str]) -> PullRequest:
        if (pr.title, _normal(pr.body)) != (title, _normal(body)):
            path = f"{self.base_path}/pulls/{pr.number}"
            pr = self._parse(self.http.request("PATCH", path, json={"title": title, "body": body}))
        return self._label(pr, labels)


class GitLab:
    def __init__(self, http: ForgeHTTP, project: str) -> None:
        self.http = http
        self.base_path = f"/projects/{quote(project, safe='')}/merge_requests"

    @staticmethod
    def _parse(data: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            number=data["iid"],
            url=data.get("web_url", ""),
            title=data.get("title") or "",
            body=data.get("description") or "",
            labels=tuple(data.get("labels") or []),
        )

    def find_open(self, branch: str) -> PullRequest | None:
        params = {"source_branch": branch, "state": "opened"}
        found = self.http.request("GET", self.base_path, params=params)
        return self._parse(found[0]) if found else None

    def create(
        self, branch: str, base: str, title: str, body: str, labels: Iterable[str]
    ) -> PullRequest:
        payload = {
            "source_branch": branch,
            "target_branch": base,
            "title": title,
            "description": body,
            "labels": ",".join(labels),
        }
        return self._parse(self.http.request("POST", self.base_path, json=payload))

    def update(self, pr: PullRequest, title: str, body: str, labels: Iterable[str]) -> PullRequest:
        missing = [label for label in labels if label not in pr.labels]
        if (pr.title, _normal(pr.body)) == (title, _normal(body)) and not missing:
            return pr
        payload: dict[str, Any] = {"title": title, "description": body}
        if missing:
            payload["add_labels"] = ",".join(missing)
        return self._parse(self.http.request("PUT", f"{self.base_path}/{pr.number}", json=payload))


def _normal(text: str) -> str:
    # Forges store bodies with \r\n when edited in a browser; that is not a change.
    return text.replace("\r\n", "\n").strip()


def make_forge(kind: str, api_url: str | None, repo: str, token: str, **http_options: Any) -> Forge:
    if kind == "github":
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        return GitHub(ForgeHTTP(api_url or DEFAULT_API_URLS[kind], headers, **http_options), repo)
    if kind == "gitlab":
        headers = {"PRIVATE-TOKEN": token}
        return GitLab(ForgeHTTP(api_url or DEFAULT_API_URLS[kind], headers, **http_options), repo)
    raise ValueError(f"unknown forge {kind!r} (expected github or gitlab)")


def open_or_update(
    forge: Forge, *, branch: str, base: str, title: str, body: str, labels: Iterable[str]
) -> tuple[str, PullRequest]:
    """("created" | "updated" | "unchanged", the PR) for `branch`, whoever got there first."""
    labels = tuple(labels)
    existing = forge.find_open(branch)
    if existing is None:
        try:
            return "created", forge.create(branch, base, title, body, labels)
        except AlreadyExists:
            existing = forge.find_open(branch)
            if existing is None:
                raise
    updated = forge.update(existing, title, body, labels)
    return ("unchanged" if updated is existing else "updated"), updated
