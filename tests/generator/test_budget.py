"""Budgets at review: what a definition may spend, checked against its cluster's limit."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest
import yaml

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION

# VALID_DEFINITION's worst case: 10 trials x 2 GPUs x 6 h (the cluster's default deadline).
CLUSTERS = """\
clusters:
  - name: gpu-cluster-1
    gpu_quota: 8
    default_trial_deadline_hours: 6
    max_gpu_hours_per_experiment: {limit}
    results:
      git_url: https://github.com/example-org/llm-hpo-gitops.git
      forge: github
      forge_api_url: https://api.github.com
      repo: example-org/llm-hpo-gitops
      base_branch: main
      token: {{secret: hpo-forge-token, key: token}}
"""


def _check(repo, capsys, definition: str, limit: str = "50") -> tuple[int, str, str]:
    (repo.root / "argocd" / "clusters.yaml").write_text(CLUSTERS.format(limit=limit))
    repo.write(definition)
    code = main(["check", "experiments/demo-exp"])
    out, err = capsys.readouterr()
    return code, out, err


def _errors(err: str) -> list[str]:
    return [line.split(": error: ", 1)[1] for line in err.splitlines() if ": error: " in line]


class TestDefinitionKey:
    """budget names exactly one positive limit, in a unit the experiment can spend."""

    @pytest.mark.parametrize(
        ("budget", "message"),
        [
            ("{}", "budget: set exactly one of gpu_hours and trial_hours"),
            (
                "{gpu_hours: 1, trial_hours: 2}",
                "budget: set exactly one of gpu_hours and trial_hours",
            ),
            ("{gpu_hours: 0}", "budget.gpu_hours: Input should be greater than 0"),
            ("{gpu_hours: many}", "budget.gpu_hours: Input should be a valid integer"),
        ],
    )
    def test_malformed_budgets(self, repo, capsys, budget, message):
        code, _, err = _check(repo, capsys, VALID_DEFINITION + f"budget: {budget}\n", "500")
        assert 1 == code
        assert [message] == [e[: len(message)] for e in _errors(err)]

    def test_gpu_hours_need_gpus(self, repo, capsys):
        text = VALID_DEFINITION.replace("gpu: 2", "gpu: 0") + "budget: {gpu_hours: 10}\n"
        code, _, err = _check(repo, capsys, text, "500")
        assert 1 == code
        assert [
            "budget.gpu_hours counts GPU time, and this experiment requests no GPU "
            "(resources_per_trial.gpu): bound its trials' wall time with trial_hours instead"
        ] == _errors(err)


class TestClusterLimit:
    """A worst case over max_gpu_hours_per_experiment needs a budget within it."""

    def test_worst_case_over_the_limit_without_a_budget_is_refused(self, repo, capsys):
        code, _, err = _check(repo, capsys, VALID_DEFINITION)
        assert 1 == code
        assert [
            "the worst case, 10 trials x 2 GPU(s) x 6 h = 120 GPU-hours, exceeds the 50 "
            "GPU-hours cluster 'gpu-cluster-1' allows per experiment: set budget: "
            "{gpu_hours: 50} or less, or lower max_trial_count or trial_active_deadline_seconds"
        ] == _errors(err)

    def test_a_budget_over_the_limit_is_refused_at_the_budget(self, repo, capsys):
        code, _, err = _check(repo, capsys, VALID_DEFINITION + "budget: {gpu_hours: 80}\n")
        assert 1 == code
        [error] = _errors(err)
        assert error.startswith("budget: 80 GPU-hours exceeds the 50 GPU-hours cluster")
        assert ":29:1: error: budget:" in err  # located at the budget key, the last line

    def test_trial_hours_count_every_gpu_of_a_trial(self, repo, capsys):
        """30 trial-hours of 2-GPU trials are 60 GPU-hours: over a limit of 50."""
        code, _, err = _check(repo, capsys, VALID_DEFINITION + "budget: {trial_hours: 30}\n")
        assert 1 == code
        assert _errors(err)[0].startswith("budget: 30 trial-hours (60 GPU-hours) exceeds the 50")

    def test_a_budget_within_the_limit_is_accepted_and_printed(self, repo, capsys):
        code, out, _ = _check(repo, capsys, VALID_DEFINITION + "budget: {gpu_hours: 40}\n")
        assert 0 == code
        assert "= 120 GPU-hours; 40 GPU-hours\n" in out

    def test_a_worst_case_within_the_limit_needs_no_budget(self, repo, capsys):
        code, out, _ = _check(repo, capsys, VALID_DEFINITION, limit="120")
        assert 0 == code
        assert out.splitlines()[0].endswith("= 120 GPU-hours; no budget")

    def test_a_bad_limit_in_clusters_yaml_is_located(self, repo, capsys):
        code, _, err = _check(repo, capsys, VALID_DEFINITION, limit="-1")
        assert 1 == code
        assert (
            "argocd/clusters.yaml:5:35: error: clusters[0].max_gpu_hours_per_experiment: "
            "Input should be greater than 0" in err
        )


class TestRendered:
    """A budget lets the results Job patch its own Experiment's trial counts, nothing more."""

    def test_role_gains_patch_with_a_budget(self, repo, capsys):
        (repo.root / "argocd" / "clusters.yaml").write_text(CLUSTERS.format(limit="500"))
        repo.write(VALID_DEFINITION + "budget: {gpu_hours: 40}\n")
        assert 0 == main(["render"])
        folder = repo.root / "rendered" / "gpu-cluster-1" / "demo-exp"
        role = yaml.safe_load((folder / "role-demo-exp-results.yaml").read_text())
        assert {
            "apiGroups": ["kubeflow.org"],
            "resources": ["experiments"],
            "resourceNames": ["demo-exp"],
            "verbs": ["patch"],
        } == role["rules"][-1]
        record = yaml.safe_load((folder / "configmap-demo-exp-results.yaml").read_text())
        assert '"budget": {\n      "gpu_hours": 40\n    }' in record["data"]["definition.json"]


class TestSummary:
    """The pull request's summary shows each budget and counts the lower of it and the worst."""

    def test_budget_column_and_total(self, repo, capsys, tmp_path):
        (repo.root / "argocd" / "clusters.yaml").write_text(CLUSTERS.format(limit="500"))
        repo.write(VALID_DEFINITION + "budget: {gpu_hours: 40}\n")
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--summary-md", str(summary)])
        text = summary.read_text()
        assert "| 120 (6 h per trial) | 40 GPU-hours | valid |" in text
        assert "At most, all experiments checked: **40 GPU-hours** (worst case or budget)" in text
