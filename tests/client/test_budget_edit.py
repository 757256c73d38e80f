"""edit_experiment_budget(): the trial counts change in the definition, every other byte stays,
the manifests are rendered again, and the change can go to a pull request as tune()'s does."""

from __future__ import annotations

import difflib
import os
import shutil

import pytest
import yaml

from client import ClientError, DefinitionInvalid, KatibClient
from proposal.settings import ForgeSettings
from tests.client.conftest import REPOSITORY, add_bare_origin, git, isolate_git
from tests.support.forge_server import TOKEN, ForgeServer

NAME = "llama-3-2-1b-imdb"
DEFINITION = f"experiments/{NAME}/experiment.yaml"
RENDERED = f"rendered/gpu-cluster-1/{NAME}/experiment-{NAME}.yaml"
RECORD = f"rendered/gpu-cluster-1/{NAME}/configmap-{NAME}-results.yaml"

pytestmark = pytest.mark.filterwarnings("ignore::client.DefinitionWarning")


@pytest.fixture
def repo_copy(repo_copy):
    """The copy with the committed rendered/ too, so what an edit re-renders is visible."""
    shutil.copytree(REPOSITORY / "rendered", repo_copy / "rendered")
    git(repo_copy, "add", "-A")
    git(repo_copy, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "r")
    return repo_copy


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _experiment_spec(root) -> dict:
    return yaml.safe_load((root / RENDERED).read_text(encoding="utf-8"))["spec"]


class TestEdit:
    def test_only_the_count_lines_change_and_the_experiment_is_rendered_again(self, repo_copy):
        before = (repo_copy / DEFINITION).read_text(encoding="utf-8")
        result = KatibClient(root=repo_copy).edit_experiment_budget(NAME, max_trial_count=14)
        after = (repo_copy / DEFINITION).read_text(encoding="utf-8")
        assert _changed_lines(before, after) == ["-max_trial_count: 10", "+max_trial_count: 14"]
        assert result.changed and result.path == repo_copy / DEFINITION
        # The Experiment's counts, and the definition record the results Job reads.
        assert result.rendered == [RECORD, RENDERED]
        assert _experiment_spec(repo_copy)["maxTrialCount"] == 14
        assert _experiment_spec(repo_copy)["parallelTrialCount"] == 2

    def test_a_count_not_set_yet_is_added_after_the_others(self, repo_copy):
        before = (repo_copy / DEFINITION).read_text(encoding="utf-8")
        KatibClient(root=repo_copy).edit_experiment_budget(
            NAME, parallel_trial_count=3, max_failed_trial_count=2
        )
        after = (repo_copy / DEFINITION).read_text(encoding="utf-8")
        assert _changed_lines(before, after) == [
            "-parallel_trial_count: 2",
            "+parallel_trial_count: 3",
            "+max_failed_trial_count: 2",
        ]
        assert "parallel_trial_count: 3\nmax_failed_trial_count: 2\nresources" in after
        assert _experiment_spec(repo_copy)["maxFailedTrialCount"] == 2

    def test_the_same_counts_change_nothing(self, repo_copy):
        result = KatibClient(root=repo_copy).edit_experiment_budget(NAME, max_trial_count=10)
        assert not result.changed and result.rendered == []
        assert git(repo_copy, "status", "--porcelain") == ""

    def test_inline_comments_and_quotes_survive(self, repo_copy):
        path = repo_copy / DEFINITION
        text = path.read_text(encoding="utf-8").replace(
            "max_trial_count: 10\n", "max_trial_count: '10'  # ten, for now\n"
        )
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DefinitionInvalid):  # a quoted count is a string: the checks say so
            KatibClient(root=repo_copy).edit_experiment_budget(NAME, parallel_trial_count=3)
        KatibClient(root=repo_copy).edit_experiment_budget(
            NAME, max_trial_count=12, parallel_trial_count=3
        )
        assert "max_trial_count: 12  # ten, for now\n" in path.read_text(encoding="utf-8")


class TestRefusals:
    """Bad input is one clear error and leaves every file as it was."""

    def test_no_count_given_is_katibs_value_error(self, repo_copy):
        with pytest.raises(ValueError, match="set max_trial_count, parallel_trial_count or"):
            KatibClient(root=repo_copy).edit_experiment_budget(NAME)

    @pytest.mark.parametrize("value", [True, "12", 12.0])
    def test_a_count_that_is_not_a_whole_number_is_named(self, repo_copy, value):
        with pytest.raises(ClientError, match="max_trial_count must be a whole number"):
            KatibClient(root=repo_copy).edit_experiment_budget(NAME, max_trial_count=value)

    def test_counts_katib_would_refuse_write_nothing(self, repo_copy):
        with pytest.raises(DefinitionInvalid, match="parallel_trial_count") as raised:
            KatibClient(root=repo_copy).edit_experiment_budget(NAME, parallel_trial_count=40)
        assert f"{DEFINITION}:31:" in str(raised.value)
        assert git(repo_copy, "status", "--porcelain") == ""

    def test_an_experiment_without_a_definition(self, repo_copy):
        with pytest.raises(ClientError, match="experiments/nope/experiment.yaml does not exist"):
            KatibClient(root=repo_copy).edit_experiment_budget("nope", max_trial_count=3)


def _keywords(github) -> dict:
    """Today's five keyword arguments (base_branch left to its default)."""
    return dict(
        forge="github",
        forge_api_url=github.api_url,
        forge_repo=github.state.repo,
        forge_token=TOKEN,
    )


def _settings_object(github) -> dict:
    settings = ForgeSettings(
        forge="github", api_url=github.api_url, repo=github.state.repo, token=TOKEN
    )
    return {"forge_settings": settings}


@pytest.mark.parametrize("given", [_keywords, _settings_object])
def test_the_change_goes_to_a_pull_request(repo_copy, tmp_path, monkeypatch, given):
    isolate_git(tmp_path, monkeypatch)
    for key in [k for k in os.environ if k.startswith("HPO_")]:
        monkeypatch.delenv(key)
    origin = add_bare_origin(repo_copy, tmp_path)
    with ForgeServer("github", "example-org/hpo") as github:
        outcome = (
            KatibClient(root=repo_copy)
            .edit_experiment_budget(
                NAME, max_trial_count=20, open_pull_request=True, **given(github)
            )
            .pull_request
        )
        [pr] = github.state.open_prs()
    assert (outcome.pr_number, pr["head"]["ref"]) == (pr["number"], f"hpo-experiment/{NAME}")
    shown = git(origin, "show", f"hpo-experiment/{NAME}:{DEFINITION}")
    assert "max_trial_count: 20\n" in shown
    assert "maxTrialCount: 20" in git(origin, "show", f"hpo-experiment/{NAME}:{RENDERED}")
