"""get_optimal_hyperparameters(): Katib's V1beta1OptimalTrial, from the first source that has it.

The order: the merged results.yaml (origin's base branch, else the working tree), the results
pull request's branch, the Experiment's status.currentOptimalTrial. Each source is real: a bare
origin, a checkout, and the local Kubernetes API server.
"""

from __future__ import annotations

import logging

import pytest
from kubeflow.katib import V1beta1OptimalTrial

from client import ClientError, KatibClient
from generator.spec.results_file import RESULTS_FILE
from results.files import render_files
from results.model import MetricObservation, Objective, TrialResult, build_result
from tests.client.conftest import add_bare_origin, commit_to_origin, git, isolate_git
from tests.support import katib
from tests.support.kube_api import KubeServer

NAME = "llama-3-2-1b-imdb"
RELATIVE = f"experiments/{NAME}/results.yaml"
LOSS = Objective("train_loss", "minimize")


def results(trial: str, learning_rate: float, loss: float, *, observed: bool = True) -> str:
    """results.yaml as the results writer writes it, for one best trial and a failed one."""
    best = TrialResult(
        name=trial,
        status="Succeeded",
        parameters={"learning_rate": learning_rate, "r": 16},
        metrics={"train_loss": loss},
        observation={"train_loss": MetricObservation(latest=loss, min=loss, max=0.69)}
        if observed
        else {},
    )
    failed = TrialResult(f"{NAME}-f5n1z", "Failed", {"learning_rate": 2.0e-5, "r": 8}, {})
    return written(
        build_result(
            experiment=NAME, status="Succeeded", reason=None, objective=LOSS, trials=[best, failed]
        )
    )


def written(result) -> str:
    return render_files(result, "0" * 64)[RESULTS_FILE].decode("utf-8")


MERGED = results(f"{NAME}-x7k2p", 3.2e-05, 0.412)
PROPOSED = results(f"{NAME}-c3d8w", 4.7e-05, 0.447)


def _trial(name: str, learning_rate: str, loss: str, high: str = "0.69") -> V1beta1OptimalTrial:
    from kubeflow.katib import V1beta1Metric, V1beta1Observation, V1beta1ParameterAssignment

    return V1beta1OptimalTrial(
        best_trial_name=name,
        parameter_assignments=[
            V1beta1ParameterAssignment(name="learning_rate", value=learning_rate),
            V1beta1ParameterAssignment(name="r", value="16"),
        ],
        observation=V1beta1Observation(
            metrics=[V1beta1Metric(name="train_loss", latest=loss, min=loss, max=high)]
        ),
    )


@pytest.fixture
def checkout(repo_copy, tmp_path, monkeypatch):
    """A clone with a bare origin and no cluster configuration at all."""
    isolate_git(tmp_path, monkeypatch)
    monkeypatch.delenv("HPO_BASE_BRANCH", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    add_bare_origin(repo_copy, tmp_path)
    return repo_copy


def _answer(root, caplog, **kwargs):
    with caplog.at_level(logging.INFO, logger="client"):
        answer = KatibClient(root=root).get_optimal_hyperparameters(NAME, **kwargs)
    return answer, caplog.messages[-1]


class TestRepositorySources:
    def test_merged_file_on_origin_is_katibs_type(self, checkout, caplog):
        commit_to_origin(checkout, "main", {RELATIVE: MERGED})
        answer, source = _answer(checkout, caplog)
        assert isinstance(answer, V1beta1OptimalTrial)
        assert answer == _trial(f"{NAME}-x7k2p", "3.2e-05", "0.412")
        assert (
            source == f"optimal hyperparameters of {NAME} from the merged {RELATIVE} (origin/main)"
        )

    def test_merged_file_wins_over_the_results_branch(self, checkout, caplog):
        commit_to_origin(checkout, "main", {RELATIVE: MERGED})
        commit_to_origin(checkout, f"hpo-results/{NAME}", {RELATIVE: PROPOSED})
        answer, _ = _answer(checkout, caplog)
        assert answer.best_trial_name == f"{NAME}-x7k2p"

    def test_working_tree_where_hpo_tune_local_writes(self, checkout, caplog):
        (checkout / RELATIVE).parent.mkdir(parents=True, exist_ok=True)
        (checkout / RELATIVE).write_text(MERGED, encoding="utf-8")
        answer, source = _answer(checkout, caplog)
        assert answer.best_trial_name == f"{NAME}-x7k2p"
        assert source.endswith(f"from {RELATIVE} in the working tree")

    def test_open_results_pull_request_branch(self, checkout, caplog):
        commit_to_origin(checkout, f"hpo-results/{NAME}", {RELATIVE: PROPOSED})
        answer, source = _answer(checkout, caplog)
        assert answer == _trial(f"{NAME}-c3d8w", "4.7e-05", "0.447")
        assert source.endswith(f"from the results pull request's branch hpo-results/{NAME}")
        # Read without checking anything out.
        assert not (checkout / RELATIVE).exists()
        assert git(checkout, "symbolic-ref", "HEAD").strip() == "refs/heads/main"

    def test_base_branch_from_the_environment(self, checkout, caplog, monkeypatch):
        commit_to_origin(checkout, "main", {})
        commit_to_origin(checkout, "release", {RELATIVE: PROPOSED})
        monkeypatch.setenv("HPO_BASE_BRANCH", "release")
        answer, source = _answer(checkout, caplog)
        assert answer.best_trial_name == f"{NAME}-c3d8w"
        assert "(origin/release)" in source

    def test_a_best_trial_without_an_observation(self, checkout, caplog):
        """Katib kept no reports of it: its value by its strategy is latest, min and max."""
        text = results(f"{NAME}-x7k2p", 3.2e-05, 0.412, observed=False)
        assert "observation" not in text
        commit_to_origin(checkout, "main", {RELATIVE: text})
        answer, _ = _answer(checkout, caplog)
        assert answer == _trial(f"{NAME}-x7k2p", "3.2e-05", "0.412", high="0.412")

    def test_no_best_trial_yet_is_none(self, checkout, caplog):
        failed = TrialResult(f"{NAME}-f5n1z", "Failed", {"learning_rate": 2.0e-5, "r": 8}, {})
        text = written(
            build_result(
                experiment=NAME, status="Failed", reason="x", objective=LOSS, trials=[failed]
            )
        )
        assert "best_trial: null\n" in text
        commit_to_origin(checkout, "main", {RELATIVE: text})
        assert _answer(checkout, caplog)[0] is None

    def test_katibs_arguments_are_accepted(self, checkout, caplog):
        commit_to_origin(checkout, "main", {RELATIVE: MERGED})
        answer, _ = _answer(checkout, caplog, namespace="other", timeout=5)
        assert answer.best_trial_name == f"{NAME}-x7k2p"

    def test_a_broken_file_is_named(self, checkout, caplog):
        commit_to_origin(checkout, "main", {RELATIVE: "experiment: [unclosed\n"})
        with pytest.raises(ClientError, match=f"^origin/main:{RELATIVE}:2:1: invalid YAML"):
            _answer(checkout, caplog)

    def test_a_file_that_is_not_the_writers_is_refused_at_its_field(self, checkout, caplog):
        text = MERGED.replace("    r: 16\n", "    r: [16]\n", 1)
        line = text.splitlines().index("    r: [16]") + 1
        commit_to_origin(checkout, "main", {RELATIVE: text})
        with pytest.raises(ClientError) as raised:
            _answer(checkout, caplog)
        expected = (
            f"origin/main:{RELATIVE}:{line}:8: best_trial.parameters.r: must be a boolean, "
            "number or string, not a list"
        )
        assert expected == str(raised.value)


class TestGitRevision:
    def test_reads_the_file_at_a_ref_alone(self, checkout, caplog):
        commit_to_origin(checkout, "main", {RELATIVE: MERGED})
        commit_to_origin(checkout, f"hpo-results/{NAME}", {RELATIVE: PROPOSED})
        git(checkout, "fetch", "-q", "origin", f"hpo-results/{NAME}:hpo-results/{NAME}")
        answer, _ = _answer(checkout, caplog, ref=f"hpo-results/{NAME}")
        assert answer.best_trial_name == f"{NAME}-c3d8w"

    def test_unknown_ref_is_one_clear_error(self, checkout, caplog):
        with pytest.raises(ClientError, match=f"cannot read {RELATIVE} at no-such-branch"):
            _answer(checkout, caplog, ref="no-such-branch")


class TestCluster:
    """While no results file exists, Katib's current optimal trial answers."""

    @pytest.fixture
    def kube(self, checkout, tmp_path, monkeypatch):
        with KubeServer() as server:
            monkeypatch.setenv("KUBECONFIG", server.kubeconfig(tmp_path / "kubeconfig"))
            yield server

    def test_current_optimal_trial_of_a_running_experiment(self, checkout, kube, caplog):
        kube.state.put(katib.running_experiment())
        answer, source = _answer(checkout, caplog)
        assert source.endswith("from the Experiment's currentOptimalTrial")
        assert answer.best_trial_name == katib.BEST_TRIAL
        assert [(a.name, a.value) for a in answer.parameter_assignments] == [
            ("learning_rate", "3.2e-05"),
            ("r", "16"),
            ("use_rslora", "true"),
        ]
        loss = answer.observation.metrics[0]
        assert (loss.name, loss.min, loss.max, loss.latest) == (
            "train_loss",
            "0.412",
            "0.69",
            "0.415",
        )

    def test_no_trial_reported_yet_is_none(self, checkout, kube, caplog):
        kube.state.put(katib.experiment_with_conditions(NAME, 1, ("Created", "True")))
        answer, source = _answer(checkout, caplog)
        assert answer is None
        assert "Katib has no optimal trial" in source

    def test_nothing_anywhere_says_where_results_come_from(self, checkout, kube, caplog):
        with pytest.raises(ClientError) as raised:
            _answer(checkout, caplog)
        message = str(raised.value)
        assert f"pushes it to branch hpo-results/{NAME}" in message
        assert f"Experiment kubeflow/{NAME} does not exist" in message

    def test_no_cluster_configuration_is_part_of_the_same_error(self, checkout, caplog):
        with pytest.raises(ClientError, match="Kubernetes configuration"):
            _answer(checkout, caplog)
