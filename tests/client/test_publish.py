"""tune(open_pull_request=True): a branch commit on a bare origin and a PR on a local forge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from client import ClientError
from proposal.settings import ForgeSettings
from tests.client.conftest import add_bare_origin, git, isolate_git
from tests.client.test_tune import _tune
from tests.support.forge_server import TOKEN, ForgeServer

NAME = "llama-3-2-fine-tune"
BRANCH = f"hpo-experiment/{NAME}"
DEFINITION = f"experiments/{NAME}/experiment.yaml"


@pytest.fixture
def github():
    with ForgeServer("github", "example-org/hpo") as server:
        yield server


@pytest.fixture
def checkout(repo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github) -> Path:
    """The user's clone: origin is a bare repository, the forge settings come from HPO_*."""
    isolate_git(tmp_path, monkeypatch)
    for key in [k for k in os.environ if k.startswith("HPO_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HPO_FORGE", "github")
    monkeypatch.setenv("HPO_FORGE_API_URL", github.api_url)
    monkeypatch.setenv("HPO_REPO", github.state.repo)
    monkeypatch.setenv("HPO_FORGE_TOKEN", TOKEN)
    add_bare_origin(repo_copy, tmp_path)
    return repo_copy


def _state(root: Path) -> tuple[str, str, str, str]:
    """Everything the user sees of their checkout: status, index, HEAD and its branch."""
    return (
        git(root, "status", "--porcelain"),
        git(root, "ls-files", "--stage"),
        git(root, "rev-parse", "HEAD"),
        git(root, "symbolic-ref", "HEAD"),
    )


def _origin(root: Path, *args: str) -> str:
    return git(root / ".." / "origin.git", *args).strip()


class TestBranchAndPullRequest:
    """One call makes one commit on hpo-experiment/<name> from origin's main and one PR; an
    identical call adds neither; the checkout, its index and HEAD are never touched."""

    def test_one_commit_one_pr_and_the_checkout_untouched(self, checkout, github):
        base = git(checkout, "rev-parse", "HEAD").strip()
        _tune(checkout)  # the files as tune() writes them, before any pull request
        (checkout / "README.md").write_text("staged, unrelated\n")
        git(checkout, "add", "README.md")
        git(checkout, "commit", "-q", "--allow-empty", "-m", "a local commit, not pushed")
        before = _state(checkout)

        result = _tune(checkout, open_pull_request=True)

        assert before == _state(checkout)
        outcome = result.pull_request
        assert ("pushed", BRANCH, "created", 1) == (
            outcome.action,
            outcome.branch,
            outcome.pr_action,
            outcome.pr_number,
        )
        assert outcome.commit == _origin(checkout, "rev-parse", BRANCH)
        assert base == _origin(checkout, "rev-parse", f"{BRANCH}^")  # origin's main, not HEAD
        changed = _origin(checkout, "diff", "--name-only", "main", BRANCH).splitlines()
        folder = checkout / "rendered" / "gpu-cluster-1" / NAME
        written = sorted(p.relative_to(checkout).as_posix() for p in folder.iterdir())
        assert [DEFINITION, *written] == changed and len(written) > 1
        assert (checkout / DEFINITION).read_text() == _origin(
            checkout, "show", f"{BRANCH}:{DEFINITION}"
        ) + "\n"
        assert "Ada Tuner <ada@example.org>" == _origin(
            checkout, "log", "-1", "--format=%an <%ae>", BRANCH
        )
        [pr] = github.state.open_prs()
        assert (BRANCH, "main", f"Add experiment {NAME}") == (
            pr["head"]["ref"],
            pr["base"]["ref"],
            pr["title"],
        )
        assert f"`{DEFINITION}`" in pr["body"]

    def test_second_identical_call_adds_no_commit_and_keeps_the_pr(self, checkout, github):
        first = _tune(checkout, open_pull_request=True).pull_request
        before = _state(checkout)
        second = _tune(checkout, open_pull_request=True).pull_request
        assert before == _state(checkout)
        assert ("unchanged", first.commit, "unchanged", first.pr_number) == (
            second.action,
            second.commit,
            second.pr_action,
            second.pr_number,
        )
        assert first.commit == _origin(checkout, "rev-parse", BRANCH)
        assert 1 == len(github.state.prs)
        assert 1 == len(github.state.calls("POST"))

    def test_changed_definition_is_a_new_commit_on_the_same_branch(self, checkout, github):
        first = _tune(checkout, open_pull_request=True).pull_request
        second = _tune(
            checkout, open_pull_request=True, overwrite=True, max_trial_count=4
        ).pull_request
        assert ("pushed", first.commit) == (
            second.action,
            _origin(checkout, "rev-parse", BRANCH + "^"),
        )
        assert "max_trial_count: 4" in _origin(checkout, "show", f"{BRANCH}:{DEFINITION}")
        assert ("unchanged", first.pr_number) == (second.pr_action, second.pr_number)
        assert 1 == len(github.state.prs)

    def test_merged_branch_needs_no_new_pull_request(self, checkout, github):
        first = _tune(checkout, open_pull_request=True).pull_request
        _origin(checkout, "update-ref", "refs/heads/main", first.commit)  # a fast-forward merge
        github.state.prs[first.pr_number]["state"] = "closed"
        again = _tune(checkout, open_pull_request=True).pull_request
        assert ("nothing-to-propose", None, None) == (again.action, again.commit, again.pr_number)
        assert first.commit == _origin(checkout, "rev-parse", BRANCH)
        assert [] == github.state.open_prs()


class TestSettings:
    """Settings come from HPO_* unless given; missing ones fail before anything is written."""

    def test_missing_settings_are_named_and_nothing_is_written(self, checkout, monkeypatch):
        monkeypatch.delenv("HPO_REPO")
        monkeypatch.delenv("HPO_FORGE_TOKEN")
        with pytest.raises(ClientError, match=r"needs forge_repo= \(HPO_REPO\), forge_token="):
            _tune(checkout, open_pull_request=True)
        assert not (checkout / DEFINITION).exists()

    def test_unreachable_origin_is_a_client_error(self, checkout, tmp_path):
        git(checkout, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
        with pytest.raises(ClientError, match=f"pull request for {NAME}: git ls-remote failed"):
            _tune(checkout, open_pull_request=True)

    def test_arguments_override_the_environment(self, checkout, github, monkeypatch):
        monkeypatch.setenv("HPO_REPO", "someone-else/elsewhere")
        result = _tune(checkout, open_pull_request=True, forge_repo=github.state.repo)
        assert "created" == result.pull_request.pr_action

    def test_a_settings_object_is_used_as_given(self, checkout, github, monkeypatch):
        """The environment names another repository and a wrong token: neither is read."""
        monkeypatch.setenv("HPO_REPO", "someone-else/elsewhere")
        monkeypatch.setenv("HPO_FORGE_TOKEN", "not-the-token")
        settings = ForgeSettings(
            forge="github", api_url=github.api_url, repo=github.state.repo, token=TOKEN
        )
        result = _tune(checkout, open_pull_request=True, forge_settings=settings)
        assert "created" == result.pull_request.pr_action
        assert [BRANCH] == [pr["head"]["ref"] for pr in github.state.open_prs()]

    def test_a_settings_object_and_keyword_arguments_are_refused(self, checkout, github):
        settings = ForgeSettings.from_environment()
        with pytest.raises(
            ClientError, match="give forge_settings= or forge_repo=, base_branch=, not both"
        ):
            _tune(
                checkout,
                open_pull_request=True,
                forge_settings=settings,
                forge_repo=github.state.repo,
                base_branch="main",
            )
        assert not (checkout / DEFINITION).exists()

    def test_a_settings_object_without_a_pull_request_is_refused(self, checkout):
        settings = ForgeSettings.from_environment()
        with pytest.raises(ClientError, match="forge_settings= is used only with open_pull_req"):
            _tune(checkout, forge_settings=settings)
        assert not (checkout / DEFINITION).exists()


def _squash_merge(checkout: Path, tmp_path: Path) -> None:
    """Someone squash-merges the experiment branch into origin's main from another clone."""
    clone = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(checkout / ".." / "origin.git"), str(clone))
    git(clone, "fetch", "-q", "origin", f"{BRANCH}:{BRANCH}")
    git(clone, "merge", "-q", "--squash", BRANCH)
    who = ["-c", "user.name=Rev", "-c", "user.email=rev@example.org"]
    git(clone, *who, "commit", "-q", "-m", "Squashed experiment")
    git(clone, "push", "-q", "origin", "main")


class TestAfterSquashMerge:
    """A squash-merged branch is not an ancestor of main, yet main holds its files."""

    def test_rerun_after_squash_merge_opens_no_pr(self, checkout, github, tmp_path):
        first = _tune(checkout, open_pull_request=True).pull_request
        _squash_merge(checkout, tmp_path)
        github.state.prs[first.pr_number]["state"] = "closed"
        again = _tune(checkout, open_pull_request=True).pull_request
        assert ("nothing-to-propose", None) == (again.action, again.pr_number)
        assert 1 == len(github.state.prs)

    def test_change_after_squash_merge_starts_again_from_main(self, checkout, github, tmp_path):
        first = _tune(checkout, open_pull_request=True).pull_request
        _squash_merge(checkout, tmp_path)
        github.state.prs[first.pr_number]["state"] = "closed"
        again = _tune(
            checkout, open_pull_request=True, overwrite=True, max_trial_count=4
        ).pull_request
        assert ("pushed", "created") == (again.action, again.pr_action)
        assert 1 == len(_origin(checkout, "log", "--oneline", f"main..{BRANCH}").splitlines())
        assert 2 == len(github.state.prs)
