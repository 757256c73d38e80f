"""examples/seed_tune.py, the seed's program with the client import changed, runs end to end."""

from __future__ import annotations

import runpy

import pytest

from generator.definition import parse_definition
from results.definition import provenance, search_space
from results.files import write_results
from results.katib_objects import result_from_katib
from tests.client.conftest import REPOSITORY
from tests.client.seed_call import SEED_DEFINITION
from tests.support import katib
from tests.support.kube_api import KubeServer

EXAMPLE = REPOSITORY / "examples" / "seed_tune.py"
NAME = "llama-3-2-fine-tune"


def _seed_search(assignments: list[dict]) -> list[dict]:
    """Recorded assignments cut to the seed's search, which tunes learning_rate and r only."""
    return [a for a in assignments if a["name"] != "use_rslora"]


def _recorded_seed_experiment() -> tuple[dict, list[dict]]:
    experiment, trials = katib.succeeded_experiment(), katib.default_trials()
    optimal = experiment["status"]["currentOptimalTrial"]
    optimal["parameterAssignments"] = _seed_search(optimal["parameterAssignments"])
    for trial in trials:
        trial["spec"]["parameterAssignments"] = _seed_search(trial["spec"]["parameterAssignments"])
    return experiment, trials


@pytest.fixture
def in_repo_copy(repo_copy, monkeypatch):
    """The repository with the results the results Job would write for the seed's definition:
    recorded Katib trials, typed by that definition, through the real writer."""
    monkeypatch.chdir(repo_copy)
    record = parse_definition(SEED_DEFINITION, "experiment.yaml").record
    result = result_from_katib(
        *_recorded_seed_experiment(),
        space=search_space(record.spec),
        provenance=provenance(record.spec),
    )
    folder = repo_copy / "experiments" / NAME
    folder.mkdir()
    write_results(folder, result, record.sha256)
    return repo_copy


@pytest.mark.filterwarnings("ignore::client.DefinitionWarning")
class TestSeedExample:
    """Writes the definition, waits on the cluster unless told not to, prints the best trial."""

    def test_waits_for_the_experiment_then_prints_the_best_trial(
        self, in_repo_copy, monkeypatch, tmp_path, capsys
    ):
        monkeypatch.delenv("HPO_EXAMPLE_SKIP_WAIT", raising=False)
        with KubeServer() as kube:
            monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kubeconfig"))
            kube.state.put(katib.experiment_with_conditions(NAME, 4, ("Succeeded", "True")))
            runpy.run_path(str(EXAMPLE), run_name="__main__")
            assert any(NAME in r for r in kube.state.requests)
        definition = in_repo_copy / "experiments" / NAME / "experiment.yaml"
        assert definition.read_text(encoding="utf-8") == SEED_DEFINITION
        printed = capsys.readouterr().out
        # The lowest train_loss among the recorded trials (0.412), its values typed.
        assert "trial_name='llama-3-2-1b-imdb-x7k2p'" in printed
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
