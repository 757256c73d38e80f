"""examples/seed_tune.py, the seed's program with the client import changed, runs end to end."""

from __future__ import annotations

import runpy

import pytest

from tests.client.conftest import REPOSITORY
from tests.client.kube_api import KubeServer, experiment
from tests.client.seed_call import SEED_DEFINITION
from tests.client.test_results import RESULTS

EXAMPLE = REPOSITORY / "examples" / "seed_tune.py"
NAME = "llama-3-2-fine-tune"


@pytest.fixture
def in_repo_copy(repo_copy, monkeypatch):
    monkeypatch.chdir(repo_copy)
    results = RESULTS.replace("llama-3-2-1b-imdb", NAME)
    (repo_copy / "experiments" / NAME).mkdir()
    (repo_copy / "experiments" / NAME / "results.yaml").write_text(results, encoding="utf-8")
    return repo_copy


@pytest.mark.filterwarnings("ignore::generator.client.DefinitionWarning")
class TestSeedExample:
    """Writes the definition, waits on the cluster unless told not to, prints the best trial."""

    def test_waits_for_the_experiment_then_prints_the_best_trial(
        self, in_repo_copy, monkeypatch, tmp_path, capsys
    ):
        monkeypatch.delenv("HPO_EXAMPLE_SKIP_WAIT", raising=False)
        with KubeServer() as kube:
            monkeypatch.setenv("KUBECONFIG", str(kube.write_kubeconfig(tmp_path / "kubeconfig")))
            kube.api.experiments[("kubeflow", NAME)] = experiment(NAME, 4, ("Succeeded", "True"))
            runpy.run_path(str(EXAMPLE), run_name="__main__")
            assert any(NAME in r for r in kube.api.requests)
        definition = in_repo_copy / "experiments" / NAME / "experiment.yaml"
        assert definition.read_text(encoding="utf-8") == SEED_DEFINITION
        printed = capsys.readouterr().out
        assert "trial_name='llama-3-2-fine-tune-x7k2p'" in printed
        assert "parameters={'learning_rate': 3.2e-05, 'r': 16}" in printed

    def test_without_a_cluster_the_wait_is_not_skipped_silently(
        self, in_repo_copy, monkeypatch, tmp_path
    ):
        monkeypatch.delenv("HPO_EXAMPLE_SKIP_WAIT", raising=False)
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
        with pytest.raises(Exception, match="Kubernetes configuration"):
            runpy.run_path(str(EXAMPLE), run_name="__main__")

    def test_skipping_the_wait_is_explicit(self, in_repo_copy, monkeypatch, capsys):
        monkeypatch.setenv("HPO_EXAMPLE_SKIP_WAIT", "1")
        runpy.run_path(str(EXAMPLE), run_name="__main__")
        assert "learning_rate" in capsys.readouterr().out
