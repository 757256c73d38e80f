"""The results branch and its PR, with real git (a bare origin) and a local forge server."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import yaml

from proposal.forge import make_forge
from proposal.git import Git, auth_environment
from results.errors import BranchTakenOver, GitError
from results.katib_objects import result_from_katib
from results.publish import publish
from tests.results.conftest import BOT, DIGEST, PERSON, SPACE, git
from tests.support import katib
from tests.support.forge_server import TOKEN

BRANCH = f"hpo-results/{katib.NAME}"
FOLDER = f"experiments/{katib.NAME}"


def _result(state: str = "Succeeded", trials=None):
    return result_from_katib(
        katib.experiment_in(state),
        katib.default_trials() if trials is None else trials,
        space=SPACE,
    )


def _job_clone(origin, name: str) -> Git:
    return Git.clone(origin.url, origin.scratch / name, branch="main")


def _publish(origin, forge_server, name: str = "job", result=None, git_repo: Git | None = None):
    forge = make_forge(
        forge_server.state.kind,
        forge_server.api_url,
        forge_server.state.repo,
        TOKEN,
        sleep=lambda s: None,
    )
    return publish(
        git_repo or _job_clone(origin, name),
        forge,
        result=result or _result(),
        definition_sha256=DIGEST,
        base="main",
        identity=BOT,
    )


def _push_first(origin, clone_name: str, result, identity=BOT):
    """Another results job (or a person) pushes to the branch from its own clone."""
    other = _job_clone(origin, clone_name)
    tip = other.remote_head(BRANCH)
    if tip:
        other.fetch(BRANCH)
        other.run("checkout", "--quiet", "-B", BRANCH, tip)
    else:
        other.run("checkout", "--quiet", "-b", BRANCH)
    from results.files import write_results

    write_results(other.workdir / FOLDER, result, DIGEST)
    other.run("add", FOLDER)
    other.commit("results from elsewhere", identity)
    assert other.push_branch(BRANCH)


def _before_push(repo: Git, action) -> None:
    """Run `action` once, just before `repo`'s first push: the window a race happens in."""
    push = repo.push_branch

    def racing_push(branch: str, **options) -> bool:
        if not getattr(racing_push, "done", False):
            racing_push.done = True
            action()
        return push(branch, **options)

    repo.push_branch = racing_push


class TestFirstRun:
    """One commit by the results identity on hpo-results/<name>, one PR; main is untouched."""

    def test_pushes_the_branch_and_opens_the_pr(self, origin, github):
        main_before = origin.tip("main")
        outcome = _publish(origin, github)
        assert ("pushed", "created") == (outcome.branch_update.action, outcome.pr_action)
        assert [(BOT.email, "HPO results: llama-3-2-1b-imdb (train_loss=0.412)")] == origin.log(
            f"main..{BRANCH}"
        )
        assert main_before == origin.tip("main")
        loaded = yaml.safe_load(origin.show(BRANCH, f"{FOLDER}/results.yaml"))
        assert f"{katib.NAME}-x7k2p" == loaded["best_trial"]["name"]
        assert origin.show(BRANCH, f"{FOLDER}/chart.png").startswith(b"\x89PNG")
        [pr] = github.state.prs.values()
        assert (BRANCH, "main", ["hpo-results"]) == (
            pr["head"]["ref"],
            pr["base"]["ref"],
            [x["name"] for x in pr["labels"]],
        )

    def test_gitlab_gets_a_merge_request(self, origin, gitlab):
        outcome = _publish(origin, gitlab)
        assert ("pushed", "created", 1) == (
            outcome.branch_update.action,
            outcome.pr_action,
            len(gitlab.state.prs),
        )


class TestRerun:
    """Running twice gives one commit and one PR; new data gives one more commit."""

    def test_same_result_twice_is_one_commit_and_one_pr(self, origin, github):
        first = _publish(origin, github, "first")
        second = _publish(origin, github, "second")
        assert ("unchanged", first.branch_update.commit) == (
            second.branch_update.action,
            second.branch_update.commit,
        )
        assert "unchanged" == second.pr_action
        assert 1 == len(origin.log(f"main..{BRANCH}"))
        assert 1 == len(github.state.prs)
        assert [] == github.state.calls("PATCH")

    def test_new_result_adds_a_commit_and_updates_the_pr(self, origin, github):
        _publish(origin, github, "first")
        outcome = _publish(origin, github, "second", result=_result("Failed"))
        assert ("pushed", "updated") == (outcome.branch_update.action, outcome.pr_action)
        assert 2 == len(origin.log(f"main..{BRANCH}"))
        assert "HPO results: llama-3-2-1b-imdb FAILED" == github.state.prs[1]["title"]

    def test_merged_results_need_no_new_pr(self, origin, github):
        _publish(origin, github, "first")
        github.state.prs[1]["state"] = "closed"  # merged: main fast-forwards to the branch
        git(origin.path, "update-ref", "refs/heads/main", origin.tip(BRANCH))
        outcome = _publish(origin, github, "second")
        assert ("nothing-to-propose", None) == (outcome.branch_update.action, outcome.pr)
        assert 1 == len(github.state.prs)


def _squash_merge(origin) -> None:
    """A person squash-merges the results branch into main: main gets a new, unrelated commit."""
    clone = origin.clone("merger")
    git(clone, "fetch", "--quiet", "origin", f"{BRANCH}:{BRANCH}")
    git(clone, "merge", "--quiet", "--squash", BRANCH)
    git(clone, "commit", "--quiet", "-m", "Squashed results")
    git(clone, "push", "--quiet", "origin", "main")


class TestAfterSquashMerge:
    """A squash-merged branch is not an ancestor of main, yet main holds its files."""

    def test_rerun_after_squash_merge_opens_no_pr(self, origin, github):
        _publish(origin, github, "first")
        _squash_merge(origin)
        github.state.prs[1]["state"] = "closed"
        outcome = _publish(origin, github, "second")
        assert ("nothing-to-propose", None) == (outcome.branch_update.action, outcome.pr)
        assert 1 == len(github.state.prs)

    def test_identical_files_on_main_need_no_pr_even_with_the_pr_open(self, origin, github):
        _publish(origin, github, "first")
        _squash_merge(origin)  # the PR is still open: the forge has not noticed yet
        outcome = _publish(origin, github, "second")
        assert "nothing-to-propose" == outcome.branch_update.action
        assert 1 == len(github.state.prs)
        assert [] == github.state.calls("PATCH")

    def test_new_result_after_squash_merge_starts_again_from_main(self, origin, github):
        _publish(origin, github, "first")
        _squash_merge(origin)
        github.state.prs[1]["state"] = "closed"
        outcome = _publish(origin, github, "second", result=_result("Failed"))
        assert ("pushed", "created") == (outcome.branch_update.action, outcome.pr_action)
        assert 1 == len(origin.log(f"main..{BRANCH}"))  # only the new commit, none of the old
        assert 2 == len(github.state.prs)


class TestConcurrentRuns:
    """Two jobs at once end with one commit and one PR, whichever pushes first."""

    def test_two_runs_at_once(self, origin, github):
        barrier = threading.Barrier(2, timeout=30)
        repos = [_job_clone(origin, "a"), _job_clone(origin, "b")]
        for repo in repos:
            _before_push(repo, barrier.wait)  # both have committed before either pushes
        outcomes, errors = [], []

        def run(repo: Git) -> None:
            try:
                outcomes.append(_publish(origin, github, git_repo=repo))
            except Exception as e:  # surfaced by the assertion below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(repo,)) for repo in repos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [] == errors
        assert ["pushed", "unchanged"] == sorted(o.branch_update.action for o in outcomes)
        assert 1 == len(origin.log(f"main..{BRANCH}"))
        assert 1 == len(github.state.prs)


class TestPushRace:
    """A push rejected because the branch moved is redone on the new tip."""

    def test_different_results_pushed_in_between_are_built_upon(self, origin, github):
        repo = _job_clone(origin, "job")
        older = _result(trials=katib.default_trials()[1:])
        _before_push(repo, lambda: _push_first(origin, "other", older))
        outcome = _publish(origin, github, git_repo=repo)
        assert "pushed" == outcome.branch_update.action
        subjects = [s for _, s in origin.log(f"main..{BRANCH}")]
        expected_subject = "HPO results: llama-3-2-1b-imdb (train_loss=0.412)"
        assert [expected_subject, "results from elsewhere"] == subjects
        loaded = yaml.safe_load(origin.show(BRANCH, f"{FOLDER}/results.yaml"))
        assert 4 == len(loaded["trials"])

    def test_identical_results_pushed_in_between_mean_no_commit(self, origin, github):
        repo = _job_clone(origin, "job")
        _before_push(repo, lambda: _push_first(origin, "other", _result()))
        outcome = _publish(origin, github, git_repo=repo)
        assert "unchanged" == outcome.branch_update.action
        assert [(BOT.email, "results from elsewhere")] == origin.log(f"main..{BRANCH}")


class TestPersonOwnsTheBranch:
    """Once a person commits to the branch, the job leaves branch and PR alone."""

    def test_existing_human_commit_stops_the_job(self, origin, github):
        _publish(origin, github, "first")
        _push_first(origin, "person", _result("Failed"), identity=PERSON)
        tip = origin.tip(BRANCH)
        requests_before = len(github.state.requests)
        with pytest.raises(BranchTakenOver, match="has commits by Ada Reviewer <ada@example.org>"):
            _publish(origin, github, "second", result=replace(_result(), reason="changed"))
        assert tip == origin.tip(BRANCH)
        assert requests_before == len(github.state.requests)

    def test_human_push_during_the_run_is_noticed_on_retry(self, origin, github):
        repo = _job_clone(origin, "job")
        _before_push(repo, lambda: _push_first(origin, "person", _result("Failed"), PERSON))
        with pytest.raises(BranchTakenOver):
            _publish(origin, github, git_repo=repo)
        assert [(PERSON.email, "results from elsewhere")] == origin.log(f"main..{BRANCH}")
        assert {} == github.state.prs


class TestCredentials:
    """Tokens go to git through the environment and never show up in errors."""

    def test_https_token_becomes_a_basic_auth_header(self):
        env = auth_environment("https://github.com/o/r.git", token="s3cret", forge="github")
        # base64("x-access-token:s3cret")
        expected = "Authorization: Basic eC1hY2Nlc3MtdG9rZW46czNjcmV0"
        assert ("http.extraHeader", expected) == (
            env["GIT_CONFIG_KEY_0"],
            env["GIT_CONFIG_VALUE_0"],
        )

    def test_local_and_ssh_urls_get_no_header(self):
        env = auth_environment(
            "git@github.com:o/r.git",
            token="s3cret",
            forge="github",
            ssh_key="/keys/id",
            known_hosts="/keys/known_hosts",
        )
        assert "GIT_CONFIG_COUNT" not in env
        expected = "ssh -i /keys/id -o IdentitiesOnly=yes -o UserKnownHostsFile=/keys/known_hosts"
        assert expected == env["GIT_SSH_COMMAND"]

    def test_failed_clone_names_the_problem_without_the_token(self, tmp_path):
        url = "http://127.0.0.1:9/o/r.git"
        env = auth_environment(url, token="s3cret-token", forge="gitlab")
        with pytest.raises(GitError) as caught:
            Git.clone(url, tmp_path / "repo", branch="main", env=env, secrets=["s3cret-token"])
        message = str(caught.value)
        assert message.startswith("git clone failed in ")
        assert "s3cret-token" not in message
        assert env["GIT_CONFIG_VALUE_0"].split()[-1] not in message
