"""Opening and updating the results PR on GitHub and GitLab, against local API servers."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from proposal.forge import make_forge, open_or_update
from results.errors import ForgeAuthError, ForgeError, ForgeRetriesExhausted
from tests.support.forge_server import TOKEN

BRANCH = "hpo-results/llama-3-2-1b-imdb"


def _forge(server, token: str = TOKEN, **options):
    slept: list[float] = []
    forge = make_forge(
        server.state.kind, server.api_url, server.state.repo, token, sleep=slept.append, **options
    )
    return forge, slept


def _open(forge, title: str = "HPO results: x", body: str = "body", labels=("hpo-results",)):
    return open_or_update(forge, branch=BRANCH, base="main", title=title, body=body, labels=labels)


class TestGitHub:
    """GitHub: pulls by head owner:branch, 422 when one exists, labels through issues."""

    def test_creates_a_pr_with_labels(self, github):
        forge, _ = _forge(github)
        action, pr = _open(forge)
        assert ("created", 1, ("hpo-results",)) == (action, pr.number, pr.labels)
        [create] = github.state.calls("POST")[:1]
        expected = {"title": "HPO results: x", "head": BRANCH, "base": "main", "body": "body"}
        assert expected == create.body
        [listing] = github.state.calls("GET")
        assert {"head": f"example-org:{BRANCH}", "state": "open"} == listing.query
        assert "2022-11-28" == listing.headers["X-GitHub-Api-Version"]

    def test_second_call_with_same_content_changes_nothing(self, github):
        forge, _ = _forge(github)
        _open(forge)
        action, _ = _open(forge)
        assert "unchanged" == action
        assert 1 == len([c for c in github.state.calls("POST") if c.path.endswith("/pulls")])
        assert [] == github.state.calls("PATCH")

    def test_changed_content_updates_the_open_pr_and_adds_new_labels(self, github):
        forge, _ = _forge(github)
        _open(forge)
        action, pr = _open(
            forge, title="HPO results: x FAILED", labels=("hpo-results", "hpo-failed")
        )
        assert ("updated", "HPO results: x FAILED") == (action, pr.title)
        assert {"title": "HPO results: x FAILED", "body": "body"} == github.state.calls("PATCH")[
            0
        ].body
        assert [{"labels": ["hpo-failed"]}] == [
            c.body for c in github.state.calls("POST") if c.path.endswith("/labels")
        ][1:]
        assert ["hpo-results", "hpo-failed"] == [x["name"] for x in github.state.prs[1]["labels"]]

    def test_already_exists_answer_falls_back_to_update(self, github):
        forge, _ = _forge(github)
        github.state.race_after_next_lookup = True
        action, pr = _open(forge)
        assert ("updated", 1, "HPO results: x") == (action, pr.number, pr.title)
        assert [422] == [c.status for c in github.state.calls("POST") if c.path.endswith("/pulls")]
        assert ["hpo-results"] == [x["name"] for x in github.state.prs[1]["labels"]]

    def test_bad_token_is_an_auth_error(self, github):
        forge, _ = _forge(github, token="wrong")
        with pytest.raises(ForgeAuthError, match="HTTP 401: Bad credentials .*HPO_FORGE_TOKEN"):
            _open(forge)


class TestGitLab:
    """GitLab: merge requests by source_branch, 409 when one exists, labels as fields."""

    def test_creates_an_mr_on_the_url_encoded_project(self, gitlab):
        forge, _ = _forge(gitlab)
        action, mr = _open(forge)
        assert ("created", 1, ("hpo-results",)) == (action, mr.number, mr.labels)
        [create] = gitlab.state.calls("POST")
        assert "/api/v4/projects/platform%2Fml%2Fhpo/merge_requests" == create.path
        assert {
            "source_branch": BRANCH,
            "target_branch": "main",
            "title": "HPO results: x",
            "description": "body",
            "labels": "hpo-results",
        } == create.body

    def test_conflict_answer_falls_back_to_update(self, gitlab):
        forge, _ = _forge(gitlab)
        gitlab.state.race_after_next_lookup = True
        action, mr = _open(forge, labels=("hpo-results", "hpo-failed"))
        assert ("updated", 1) == (action, mr.number)
        assert [409] == [c.status for c in gitlab.state.calls("POST")]
        assert {
            "title": "HPO results: x",
            "description": "body",
            "add_labels": "hpo-results,hpo-failed",
        } == gitlab.state.calls("PUT")[0].body
        assert (1, ["hpo-results", "hpo-failed"]) == (
            len(gitlab.state.prs),
            gitlab.state.prs[1]["labels"],
        )

    def test_unchanged_mr_is_left_alone(self, gitlab):
        forge, _ = _forge(gitlab)
        _open(forge)
        assert "unchanged" == _open(forge)[0]
        assert [] == gitlab.state.calls("PUT")


class TestRetries:
    """5xx and 429 are retried with backoff; Retry-After decides the wait when present."""

    def test_500_then_success(self, github):
        forge, slept = _forge(github)
        github.state.fail_next(2, 500)
        assert "created" == _open(forge)[0]
        assert [1.0, 2.0] == slept  # exponential backoff from one second

    def test_429_waits_as_long_as_retry_after_says(self, gitlab):
        forge, slept = _forge(gitlab)
        gitlab.state.fail_next(1, 429, {"Retry-After": "7"})
        assert "created" == _open(forge)[0]
        assert [7.0] == slept

    def test_retry_after_as_an_http_date(self, github):
        forge, slept = _forge(github)
        github.state.fail_next(1, 503, {"Retry-After": formatdate(usegmt=True)})
        _open(forge)
        assert 1 == len(slept) and 0.0 <= slept[0] <= 1.0

    def test_secondary_rate_limit_403_is_retried(self, github):
        forge, slept = _forge(github)
        github.state.fail_next(1, 403, {"Retry-After": "3"})
        assert "created" == _open(forge)[0]
        assert [3.0] == slept

    def test_unreadable_retry_after_falls_back_to_backoff(self, github):
        forge, slept = _forge(github)
        github.state.fail_next(2, 503, {"Retry-After": "soon, maybe"})
        assert "created" == _open(forge)[0]
        assert [1.0, 2.0] == slept

    def test_primary_rate_limit_403_waits_for_the_reset(self, github):
        forge, slept = _forge(github)
        reset = str(int(time.time()) + 20)
        github.state.fail_next(1, 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        assert "created" == _open(forge)[0]
        assert 1 == len(slept) and 17.0 <= slept[0] <= 20.0

    def test_rate_limit_reset_is_capped(self, github):
        forge, slept = _forge(github, max_wait_s=30)
        reset = str(int(time.time()) + 3600)
        github.state.fail_next(1, 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        _open(forge)
        assert [30.0] == slept

    def test_retry_after_is_capped(self, github):
        forge, slept = _forge(github, max_wait_s=30)
        github.state.fail_next(1, 429, {"Retry-After": "3600"})
        _open(forge)
        assert [30.0] == slept

    def test_gives_up_with_a_named_error(self, github):
        forge, slept = _forge(github, max_attempts=3)
        github.state.fail_next(3, 502)
        with pytest.raises(ForgeRetriesExhausted, match="gave up after 3 tries .*HTTP 502"):
            _open(forge)
        assert 2 == len(slept)

    def test_unreachable_forge_is_retried_then_named(self):
        forge = make_forge(
            "github", "http://127.0.0.1:9", "o/r", TOKEN, sleep=lambda s: None, max_attempts=2
        )
        with pytest.raises(ForgeRetriesExhausted, match="ConnectionError"):
            _open(forge)

    def test_real_wait_honours_retry_after(self, github):
        forge = make_forge("github", github.api_url, github.state.repo, TOKEN)
        github.state.fail_next(1, 429, {"Retry-After": "1"})
        started = time.monotonic()
        _open(forge)
        assert time.monotonic() - started >= 1.0

    def test_other_client_errors_are_named(self, github):
        forge, _ = _forge(github)
        github.state.fail_next(1, 404)
        with pytest.raises(ForgeError, match="HTTP 404: scripted failure"):
            _open(forge)
