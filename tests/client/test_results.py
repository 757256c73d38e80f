"""get_optimal_hyperparameters() reads results.yaml from Git: the working tree or a revision."""

from __future__ import annotations

import pytest

from client import ClientError, KatibClient, OptimalHyperparameters
from tests.client.conftest import git

NAME = "llama-3-2-1b-imdb"
RESULTS = """\
experiment: llama-3-2-1b-imdb
status: Succeeded
reason: null
objective: {metric: train_loss, type: minimize, goal: null}
best_trial:
  name: llama-3-2-1b-imdb-x7k2p
  parameters: {learning_rate: 3.2e-05, r: 16}
  metrics: {train_loss: 0.412}
trials:
  - name: llama-3-2-1b-imdb-x7k2p
    status: Succeeded
    parameters: {learning_rate: 3.2e-05, r: 16}
    metrics: {train_loss: 0.412}
counts: {Succeeded: 1}
"""
BEST = OptimalHyperparameters(
    experiment=NAME,
    status="Succeeded",
    trial_name="llama-3-2-1b-imdb-x7k2p",
    parameters={"learning_rate": 3.2e-05, "r": 16},
    metrics={"train_loss": 0.412},
    objective={"metric": "train_loss", "type": "minimize", "goal": None},
)


def _results_path(root):
    return root / "experiments" / NAME / "results.yaml"


class TestWorkingTree:
    """The merged results file, typed as written."""

    def test_best_trial_with_typed_parameters(self, repo_copy):
        _results_path(repo_copy).write_text(RESULTS, encoding="utf-8")
        assert KatibClient(root=repo_copy).get_optimal_hyperparameters(NAME) == BEST

    def test_namespace_is_accepted_and_ignored_like_katibs(self, repo_copy):
        _results_path(repo_copy).write_text(RESULTS, encoding="utf-8")
        client = KatibClient(root=repo_copy)
        assert BEST == client.get_optimal_hyperparameters(NAME, namespace="other")
        assert BEST == client.get_optimal_hyperparameters(NAME, "other")

    def test_no_best_trial_is_none(self, repo_copy):
        text = RESULTS.replace("best_trial:\n", "best_trial: null\nunused:\n")
        _results_path(repo_copy).write_text(text, encoding="utf-8")
        assert KatibClient(root=repo_copy).get_optimal_hyperparameters(NAME) is None

    def test_missing_file_says_where_results_come_from(self, repo_copy):
        with pytest.raises(ClientError, match=f"pushes it to branch hpo-results/{NAME}"):
            KatibClient(root=repo_copy).get_optimal_hyperparameters(NAME)


class TestGitRevision:
    """Results on the results branch, read without checking it out."""

    def test_reads_the_file_at_a_ref(self, repo_copy):
        git(repo_copy, "checkout", "-qb", f"hpo-results/{NAME}")
        _results_path(repo_copy).write_text(RESULTS, encoding="utf-8")
        git(repo_copy, "add", ".")
        git(repo_copy, "-c", "user.name=r", "-c", "user.email=r@example.com", "commit", "-qm", "r")
        git(repo_copy, "checkout", "-q", "main")
        assert not _results_path(repo_copy).exists()
        client = KatibClient(root=repo_copy)
        assert client.get_optimal_hyperparameters(NAME, ref=f"hpo-results/{NAME}") == BEST

    def test_unknown_ref_is_one_clear_error(self, repo_copy):
        with pytest.raises(ClientError, match=f"cannot read experiments/{NAME}/results.yaml at"):
            KatibClient(root=repo_copy).get_optimal_hyperparameters(NAME, ref="no-such-branch")
